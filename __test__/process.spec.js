'use strict'
// What is particular to renderers in other processes: `webContents.fork`, and processes main did
// not start connecting to `ipcMain.listen()`. What they share with workers is in
// renderers.spec.js.

const fs = require('fs')
const os = require('os')
const path = require('path')
const net = require('net')
const v8 = require('v8')
const { spawn, execFileSync } = require('child_process')
const ipc = require('..')
const { FIXTURE, start, track, reports, once, bounded, stillServes, cleanUp } = require('./helpers/renderers')
const { countSplices } = require('./helpers/splices')

const { ipcMain, webContents } = ipc
const ROOT = path.join(__dirname, '..')
const FIXTURES = path.join(__dirname, 'fixtures')
// Liveness bounds (a process that hangs fails the test), not timing assertions.
const EXIT_BOUND_MS = 30000
// The handshake timeout of ipcMain.listen() (README): what a refusal must come well before.
const HANDSHAKE_TIMEOUT_MS = 10000

afterEach(cleanUp)

/**
 * Resolves when process `pid` has exited. An orphan is reparented to init, which may be slow to
 * reap it: a zombie ('Z' in /proc/<pid>/stat) has exited too.
 */
async function exited(pid) {
  for (;;) {
    let state
    try {
      state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]
    } catch {
      return
    }
    if (state === 'Z') return
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

test('args and options are passed as to child_process.fork; the connection variables do not leak', async () => {
  const wc = start(
    'process',
    'options',
    {},
    { cwd: FIXTURES, env: { ...process.env, IPC_MAIN_TEST_VAR: 'yes' }, execArgv: ['--no-deprecation', '--no-warnings'] },
  )
  // not silent: its standard streams are this process's, nothing is piped to main
  expect([wc.stdin, wc.stdout, wc.stderr]).toEqual([null, null, null])
  const r = await reports(wc)
  expect(r).toMatchObject({ env: 'yes', cwd: FIXTURES, argv: [], execArgv: ['--no-deprecation', '--no-warnings'] })
  expect(r.rendererEnv).toBeUndefined()
  expect(r.addressEnv).toBeUndefined()
  expect(wc.getOSProcessId()).toBe(r.pid)
})

test('a renderer process that crashes by a signal is gone as "crashed", with 128 + the signal as its exit code', async () => {
  // its working directory is a scratch one, for the core file where core dumps are enabled
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcmain-spec-'))
  try {
    // (not waiting for its 'started': a message still in the crashing process's buffers may be lost)
    const wc = start('process', 'exit', { how: 'segv' }, { cwd: dir })
    // 139: 128 + SIGSEGV (11)
    expect(await wc.gone).toEqual({ reason: 'crashed', exitCode: 139 })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('both ends read their connection on their own event loop: no reader thread between the socket and JS', async () => {
  const before = ipc.diagnostics().polledConnections
  const wc = start('process', 'diagnostics')
  const inRenderer = await reports(wc)
  // The renderer process reads its one connection to main itself...
  expect(inRenderer.polledConnections).toBe(1)
  // ...and main reads the renderer's, until it is gone.
  expect(ipc.diagnostics().polledConnections).toBe(before + 1)
  wc.destroy()
  await wc.gone
  await wc.destroyedEvent
  expect(ipc.diagnostics().polledConnections).toBe(before)
  await stillServes('process')
})

/**
 * The 'splicedEcho' scenario in a renderer of `kind`: its report, and main's count of spliced
 * answers and of spliced messages copied after all.
 */
async function splicedEcho(kind) {
  const { splicedJoins } = require('../binding.js')
  ipcMain.handle('echo', (event, b) => b)
  ipcMain.on('echo-sync', (event, b) => {
    event.returnValue = b
  })
  const splices = countSplices()
  const before = splicedJoins()
  try {
    const r = await reports(start(kind, 'splicedEcho'))
    return { r, spliced: splices.count, joins: splicedJoins() - before }
  } finally {
    splices.restore()
  }
}

test('a large Buffer goes to the socket from where it is, each way: no copy into its message (invoke, sendSync)', async () => {
  const main = await splicedEcho('process')
  expect(main.r.ok).toEqual([true, true, true, true])
  // every Buffer was left out of its message by the encoder, each way...
  expect([main.r.spliced, main.spliced]).toEqual([4, 4])
  // ...and none of them had to be copied in after all
  expect(main.r.joins).toBe(0)
  expect(main.joins).toBe(0)
})

test('to a worker a large Buffer is not spliced: it is copied by the encoder, outside the core', async () => {
  const main = await splicedEcho('worker')
  expect(main.r.ok).toEqual([true, true, true, true])
  expect([main.r.spliced, main.spliced, main.r.joins]).toEqual([0, 0, 0])
})

describe('kill -9 of a renderer process: main survives, the reason is reported, nothing is left pending', () => {
  test.each([
    ['blocked in sendSync', 'block', 'never'],
    ['while an invoke is pending', 'invoke', null],
    ['in the middle of a burst of sends', 'burst', 'burst'],
  ])('%s', async (when, order, waitFor) => {
    let invoked
    ipcMain.handle('never-answered', () => new Promise(resolve => (invoked = resolve)))
    ipcMain.on('burst', () => {})
    const wc = start('process', 'obedient')
    await once(wc.ipc, 'ready')
    const arrived = waitFor && once(ipcMain, waitFor)
    wc.send(order)
    if (arrived) await arrived
    else while (invoked === undefined) await new Promise(resolve => setTimeout(resolve, 5))
    if (order !== 'burst') expect(ipc.diagnostics().pendingRequests).toBe(1)
    process.kill(wc._processId, 'SIGKILL')
    expect(await wc.gone).toEqual({ reason: 'killed', exitCode: 137 })
    await wc.destroyedEvent
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    expect(webContents.getAllWebContents()).toEqual([])
    // main is fine: a new renderer works
    await stillServes('process')
  })
})

describe('main dies while a renderer process is blocked in sendSync', () => {
  /** Starts orphaning-main.js: `end` 'exit' makes it call process.exit() once the renderer is blocked. */
  function orphan(scenario, extra = {}, end = 'wait') {
    const args = [path.join(FIXTURES, 'orphaning-main.js'), scenario, JSON.stringify(extra), end]
    const main = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    main.stderr.on('data', chunk => (stderr += chunk))
    const closed = new Promise(resolve => main.stderr.on('end', resolve))
    const blocked = new Promise(resolve => {
      let out = ''
      main.stdout.on('data', chunk => {
        out += chunk
        const m = /blocked (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
    })
    return { main, blocked, closed, stderr: () => stderr }
  }

  // Where the renderer writes how and when its sendSync ended (main is gone: nobody to tell).
  let dir
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipcmain-spec-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  test('the renderer gets ERR_IPC_DISCONNECTED within 1 s of the kill, and exits within 1 s', async () => {
    const record = path.join(dir, 'record.json')
    const { main, blocked } = orphan('disconnected', { record })
    const child = await blocked
    const killedAt = Date.now()
    main.kill('SIGKILL')
    await exited(child)
    // The bound of the issue: the renderer must not outlive its main by more than a second.
    expect(Date.now() - killedAt).toBeLessThan(1000)
    const { error, at } = JSON.parse(fs.readFileSync(record, 'utf8'))
    expect(error).toMatchObject({ code: 'ERR_IPC_DISCONNECTED' })
    // and its sendSync gave way, after the kill, within the same second
    expect(at).toBeGreaterThanOrEqual(killedAt)
    expect(at - killedAt).toBeLessThan(1000)
  })

  test('main calling process.exit(): the renderer gets ERR_IPC_DISCONNECTED and exits', async () => {
    const record = path.join(dir, 'record.json')
    const { main, blocked } = orphan('disconnected', { record }, 'exit')
    const mainExit = once(main, 'exit')
    const child = await blocked
    expect(await bounded(mainExit, EXIT_BOUND_MS, "main's exit")).toEqual([0, null])
    await bounded(exited(child), EXIT_BOUND_MS, "the renderer's exit")
    const { error } = JSON.parse(fs.readFileSync(record, 'utf8'))
    expect(error).toMatchObject({ code: 'ERR_IPC_DISCONNECTED' })
  }, EXIT_BOUND_MS * 2)

  test('with exitOnClose off, its sendSync throws and its invoke rejects, both with ERR_IPC_DISCONNECTED', async () => {
    const { main, blocked, closed, stderr } = orphan('orphaned')
    await blocked
    main.kill('SIGKILL')
    await closed
    const settled = /settled (.*)/.exec(stderr())
    expect(settled).not.toBeNull()
    const outcome = JSON.parse(settled[1])
    expect(outcome.sync.error).toMatchObject({ code: 'ERR_IPC_DISCONNECTED' })
    expect(outcome.invoke.error).toMatchObject({ code: 'ERR_IPC_DISCONNECTED' })
    expect(stderr()).toMatch(/close /)
  })
})

describe('ipcMain.listen() and processes main did not start', () => {
  function external(args, env) {
    return spawn(process.execPath, [path.join(FIXTURES, 'external.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
  }

  test.each([
    ['its environment', server => external([], server.env)],
    ['connect(address, token)', server => external([server.address, server.token], {})],
  ])('a process connecting through %s becomes a WebContents', async (how, launch) => {
    const server = ipcMain.listen()
    expect(server.address).toMatch(/main\.sock$/)
    expect(server.token).toMatch(/^[0-9a-f]{64}$/)
    ipcMain.on('double', (event, n) => {
      event.returnValue = n * 2
    })
    ipcMain.handle('add', (event, a, b) => a + b)
    // Listening before it starts: its first messages may come in the same batch as the connection.
    const connected = once(server, 'connection')
    const hello = once(ipcMain, 'hello')
    const results = once(ipcMain, 'results')
    const child = launch(server)
    const [wc] = await connected
    track(wc)
    const [helloEvent, pid, idThere] = await hello
    expect(helloEvent.sender).toBe(wc)
    expect([pid, idThere]).toEqual([child.pid, wc.id])
    expect(wc._processId).toBe(child.pid)
    expect(wc.getOSProcessId()).toBe(child.pid)
    expect(webContents.getAllWebContents()).toContain(wc)
    const [, doubled, sum] = await results
    expect([doubled, sum]).toEqual([42, 3])
    wc.send('bye')
    // it said goodbye with its exit code as it exited
    expect(await wc.gone).toEqual({ reason: 'abnormal-exit', exitCode: 5 })
  })

  // Raw connections, speaking the wire format (src/transport/frame.rs) by hand.
  const HELLO = 0x10
  const WELCOME = 0x11
  const SEND = 1

  /**
   * A frame: u32 LE length of everything after it, u8 kind, u8 status, u16 reserved, u32 LE
   * renderer, u64 LE request, u32 LE channel length, the channel, the payload.
   */
  function frame(kind, renderer, channel, payload, { status = 0, reserved = 0, request = 0n } = {}) {
    const name = Buffer.from(channel)
    const out = Buffer.alloc(24 + name.length + payload.length)
    out.writeUInt32LE(20 + name.length + payload.length, 0)
    out[4] = kind
    out[5] = status
    out.writeUInt16LE(reserved, 6)
    out.writeUInt32LE(renderer, 8)
    out.writeBigUInt64LE(request, 12)
    out.writeUInt32LE(name.length, 20)
    name.copy(out, 24)
    payload.copy(out, 24 + name.length)
    return out
  }

  const hello = (token, protocol = 1) => frame(HELLO, 0, '', Buffer.from(JSON.stringify({ protocol, token, pid: process.pid })))

  /** A send frame on channel 'ch' with `value` as its one argument. */
  const message = (renderer, value) => frame(SEND, renderer, 'ch', v8.serialize([value]))

  /** The argument that makes a send frame (`message`) exactly `length` long after its prefix. */
  function paddingFor(length) {
    for (let n = length; n > 0; n--) {
      if (message(0, 'x'.repeat(n)).readUInt32LE(0) === length) return 'x'.repeat(n)
    }
    throw new Error(`no send frame of length ${length}`)
  }

  /** Resolves once ipcMain has heard `count` more messages on 'ch'. */
  function messages(count) {
    return new Promise(resolve => {
      const heard = () => {
        if (--count > 0) return
        ipcMain.off('ch', heard)
        resolve()
      }
      ipcMain.on('ch', heard)
    })
  }

  /** A connection to `server`: what main sent on it so far, and a promise for its close. */
  function rawSocket(server) {
    const socket = net.connect(server.address)
    socket.on('error', () => {})
    let received = Buffer.alloc(0)
    socket.on('data', chunk => (received = Buffer.concat([received, chunk])))
    const closed = new Promise(resolve => socket.on('close', resolve))
    return { socket, closed, received: () => received }
  }

  /** Writes `bytes` on a new connection (then ends it, with `end`); resolves once it is closed. */
  function raw(server, bytes, end = false) {
    const { socket, closed } = rawSocket(server)
    if (end) socket.end(bytes)
    else socket.write(bytes)
    return closed
  }

  /** A connection that did the handshake right: its WebContents here, and main's WELCOME. */
  async function handshake(server) {
    const conn = rawSocket(server)
    const connected = once(server, 'connection')
    conn.socket.write(hello(server.token))
    const [wc] = await connected
    track(wc)
    const complete = () => conn.received().length >= 4 && conn.received().length >= 4 + conn.received().readUInt32LE(0)
    while (!complete()) await new Promise(resolve => setTimeout(resolve, 5))
    const w = conn.received()
    const welcome = { kind: w[4], ...JSON.parse(w.subarray(24 + w.readUInt32LE(20), 4 + w.readUInt32LE(0))) }
    return { ...conn, wc, welcome }
  }

  test('a wrong token, a wrong protocol version, garbage, an oversized length and a truncated frame close only their connection', async () => {
    const server = ipcMain.listen({ maxFrameSize: 4096 })
    const errors = []
    server.on('connection-error', err => errors.push(err.code))
    await raw(server, hello('0'.repeat(64)))
    await raw(server, hello(server.token, 2))
    await raw(server, Buffer.from('GET / HTTP/1.1\r\n\r\n'))
    const oversized = Buffer.alloc(4)
    oversized.writeUInt32LE(4096 + 1, 0)
    await raw(server, oversized)
    await raw(server, hello(server.token).subarray(0, 30), true)
    while (errors.length < 5) await new Promise(resolve => setTimeout(resolve, 5))
    expect(errors).toEqual(['ERR_IPC_BAD_TOKEN', 'ERR_IPC_PROTOCOL', 'ERR_IPC_BAD_FRAME', 'ERR_IPC_BAD_FRAME', 'ERR_IPC_BAD_FRAME'])
    expect(webContents.getAllWebContents()).toEqual([])
    // and main goes on serving renderers
    await stillServes('process')
  })

  test('after the handshake, an unknown kind or status, reserved bits, or a frame longer than maxFrameSize end that connection only (ERR_IPC_BAD_FRAME)', async () => {
    const server = ipcMain.listen({ maxFrameSize: 4096 })
    const errors = []
    server.on('connection-error', err => errors.push(err))
    const heard = []
    ipcMain.on('ch', (event, value) => heard.push([event.sender.id, value]))
    const atLimit = paddingFor(4096)
    // one that behaves, connected throughout
    const bystander = await handshake(server)
    expect(bystander.welcome).toEqual({ kind: WELCOME, protocol: 1, renderer: bystander.wc.id, pid: process.pid })
    const bad = [
      ['an unknown kind', id => frame(0xee, id, 'ch', v8.serialize(['bad']))],
      ['an unknown status', id => frame(SEND, id, 'ch', v8.serialize(['bad']), { status: 0xee })],
      ['reserved bits set', id => frame(SEND, id, 'ch', v8.serialize(['bad']), { reserved: 0x0100 })],
      ['one byte over the maximum', id => message(id, paddingFor(4096 + 1))],
    ]
    const ended = []
    for (const [what, make] of bad) {
      const conn = await handshake(server)
      const id = conn.wc.id
      // good messages first (one exactly as long as the maximum allows), then the bad frame
      const arrived = messages(2)
      conn.socket.write(message(id, 'good'))
      conn.socket.write(message(id, atLimit))
      await arrived
      conn.socket.write(make(id))
      const gone = await conn.wc.gone
      await conn.closed
      ended.push({ what, gone, destroyed: conn.wc.isDestroyed(), heard: heard.filter(([from]) => from === id).map(([, v]) => v) })
    }
    expect(ended).toEqual(
      bad.map(([what]) => ({ what, gone: { reason: 'crashed', exitCode: -1 }, destroyed: true, heard: ['good', atLimit] })),
    )
    expect(errors.map(e => e.code)).toEqual(bad.map(() => 'ERR_IPC_BAD_FRAME'))
    expect(errors.map(e => e.message)).toEqual([
      expect.stringMatching(/kind/),
      expect.stringMatching(/status/),
      expect.stringMatching(/reserved/),
      expect.stringMatching(/4097 .*4096|exceeds/),
    ])
    // the bystander is still connected and heard
    expect(bystander.wc.isDestroyed()).toBe(false)
    const fromBystander = new Promise(resolve => ipcMain.once('ch', (event, value) => resolve([event.sender, value])))
    bystander.socket.write(message(bystander.wc.id, 'still here'))
    expect(await fromBystander).toEqual([bystander.wc, 'still here'])
    bystander.socket.end()
    await bystander.closed
    // and main goes on serving renderers
    await stillServes('process')
  })

  test('frames that arrive together with a malformed one, before it, are still dispatched before the renderer is gone', async () => {
    const server = ipcMain.listen()
    const errors = []
    server.on('connection-error', err => errors.push(err.code))
    const heard = []
    ipcMain.on('ch', (event, value) => heard.push(value))
    const { socket, closed, wc } = await handshake(server)
    const gone = new Promise(resolve => wc.once('render-process-gone', () => resolve([...heard])))
    // in one write, so that main reads them together
    socket.write(Buffer.concat([message(wc.id, 'first'), message(wc.id, 'second'), frame(0xee, wc.id, 'ch', v8.serialize(['bad']))]))
    await closed
    expect(errors).toEqual(['ERR_IPC_BAD_FRAME'])
    // what main had heard by the time the renderer was declared gone
    expect(await gone).toEqual(['first', 'second'])
  })

  test('a connection that breaks after its server was closed is still reported, as a process warning', async () => {
    const server = ipcMain.listen()
    const { socket, closed, wc } = await handshake(server)
    server.close()
    const warned = new Promise(resolve => jest.spyOn(process, 'emitWarning').mockImplementation((text, options) => resolve([text, options])))
    socket.write(frame(0xee, wc.id, 'ch', v8.serialize(['bad'])))
    await closed
    const [text, options] = await warned
    jest.restoreAllMocks()
    expect(text).toMatch(/^ipc-main refused or closed a connection: .*unknown frame kind 238/)
    expect(options).toEqual({ code: 'ERR_IPC_BAD_FRAME' })
  })

  test(
    'at the default maximum, a 1 MiB length before the handshake is refused at once (64 KiB until then), not by the handshake timeout',
    async () => {
      const server = ipcMain.listen()
      const refused = once(server, 'connection-error')
      const conn = rawSocket(server)
      const prefix = Buffer.alloc(4)
      prefix.writeUInt32LE(1 << 20, 0)
      // the prefix alone, and the connection left open: only main can end it
      conn.socket.write(prefix)
      const [err] = await refused
      expect(err.code).toBe('ERR_IPC_BAD_FRAME')
      await conn.closed
      // after the handshake, the same length is fine
      const ok = await handshake(server)
      const big = paddingFor(1 << 20)
      const heard = new Promise(resolve => ipcMain.once('ch', (event, value) => resolve(value)))
      ok.socket.write(message(ok.wc.id, big))
      expect((await heard) === big).toBe(true)
      ok.socket.end()
      await ok.closed
    },
    // room for a refusal by the timeout to show as its code, rather than as this test's timeout
    HANDSHAKE_TIMEOUT_MS + 10000,
  )

  test('a connected process that vanishes without saying goodbye (kill -9) is gone as "crashed", nothing left pending', async () => {
    const server = ipcMain.listen()
    const connected = once(server, 'connection')
    // listening before it starts: its first message may come in the same batch as the connection
    const ready = once(ipcMain, 'ready')
    const child = spawn(process.execPath, [FIXTURE, JSON.stringify({ scenario: 'obedient' })], {
      cwd: ROOT,
      env: { ...process.env, ...server.env },
      stdio: 'ignore',
    })
    const childExit = once(child, 'exit')
    const [wc] = await connected
    track(wc)
    await ready
    expect(wc.getOSProcessId()).toBe(child.pid)
    const blocked = once(ipcMain, 'never')
    wc.send('block')
    await blocked
    expect(ipc.diagnostics().pendingRequests).toBe(1)
    child.kill('SIGKILL')
    expect(await wc.gone).toEqual({ reason: 'crashed', exitCode: -1 })
    expect(await childExit).toEqual([null, 'SIGKILL'])
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    expect(webContents.getAllWebContents()).toEqual([])
  })

  test('destroying a connected process from a listener dispatches none of its queued messages from inside destroy()', async () => {
    const server = ipcMain.listen()
    const { socket, closed, wc } = await handshake(server)
    const destroyed = once(wc, 'destroyed')
    let destroying = false
    const heard = []
    ipcMain.on('ch', (event, value) => {
      heard.push({ value, destroying })
      if (value === 'first') {
        destroying = true
        wc.destroy()
        destroying = false
      }
    })
    // three messages in one write: the others are still queued in main when the first is heard
    socket.write(Buffer.concat([message(wc.id, 'first'), message(wc.id, 'second'), message(wc.id, 'third')]))
    await destroyed
    await closed
    expect(heard[0]).toEqual({ value: 'first', destroying: false })
    expect(heard.filter(h => h.destroying)).toEqual([])
    expect(wc.isDestroyed()).toBe(true)
  })

  test('a connected process that sends a payload that is not a structured clone loses its connection, nothing else', async () => {
    const server = ipcMain.listen()
    const errors = []
    server.on('connection-error', err => errors.push(err))
    const heard = []
    ipcMain.on('ch', (event, value) => heard.push(value))
    const { socket, closed, wc } = await handshake(server)
    const destroyed = once(wc, 'destroyed')
    // a good message first, then bytes no structured-clone encoder makes (kind 1: send)
    socket.write(message(wc.id, 'fine'))
    socket.write(frame(SEND, wc.id, 'ch', Buffer.from([0xff, 0x0f, 0x99, 0x42, 0x13])))
    await destroyed
    await closed
    expect(heard).toEqual(['fine'])
    expect(errors.map(e => e.code)).toEqual(['ERR_IPC_BAD_PAYLOAD'])
    expect(errors[0].message).toMatch(/channel 'ch'/)
    expect(wc.isDestroyed()).toBe(true)
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    // and main goes on serving renderers
    await stillServes('process')
  })

  test('listening twice at another path is refused; close() stops listening', async () => {
    const server = ipcMain.listen()
    expect(ipcMain.listen()).toBe(server)
    expect(() => ipcMain.listen('/tmp/elsewhere.sock')).toThrow(expect.objectContaining({ code: 'ERR_IPC_ALREADY_LISTENING' }))
    server.close()
    expect(server.listening).toBe(false)
    await new Promise(resolve => {
      const socket = net.connect(server.address)
      socket.on('error', err => {
        expect(err.code).toMatch(/ENOENT|ECONNREFUSED/)
        resolve()
      })
    })
  })

  test('only ipcMain listens', () => {
    const wc = webContents.create()
    expect(() => wc.ipc.listen()).toThrow(expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG' }))
  })
})

describe('nothing keeps a process alive that should exit', () => {
  const run = script =>
    execFileSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: EXIT_BOUND_MS,
      // the invoke scenario's unhandled channels make those mains log: kept off the test output
      stdio: ['ignore', 'pipe', 'pipe'],
    })

  test('main exits by itself once its renderer processes have exited', () => {
    const out = run(`
      const { ipcMain, webContents } = require('.')
      ipcMain.handle('add', (e, a, b) => a + b)
      const wc = webContents.fork(${JSON.stringify(path.join(FIXTURES, 'renderer.js'))}, ['{"scenario":"invoke"}'])
      wc.ipc.on('report', (e, r) => console.log('value', r.value.value))
      wc.on('destroyed', () => console.log('destroyed'))
    `)
    expect(out).toBe('value 5\ndestroyed\n')
  })

  // A main whose renderer process (the 'outlived' scenario, ended `how`) exits while its own
  // child holds the socket for half a second more; `then` runs after the fork. Prints what main
  // heard.
  const outlived = (how, then = '') =>
    run(`
      const { ipcMain, webContents } = require('.')
      ipcMain.handle('handed-down', (e, yes) => console.log('handed down', yes))
      const data = ${JSON.stringify(JSON.stringify({ scenario: 'outlived', how }))}
      const wc = webContents.fork(${JSON.stringify(path.join(FIXTURES, 'renderer.js'))}, [data])
      wc.on('render-process-gone', (e, d) => console.log('gone', d.reason, d.exitCode))
      wc.on('destroyed', () => console.log('destroyed'))
      ${then}
    `)

  test('main stays alive until a renderer process that died is announced gone, even when its connection outlives it', () => {
    // killed: its 'exit' comes first, and main must not exit before 'destroyed'
    expect(outlived('kill')).toBe('handed down true\ngone killed 137\ndestroyed\n')
  })

  test('a renderer process destroyed after it exited, before its connection ended, is gone as it exited', () => {
    // It exits with code 3; main destroys it as soon as the process is reaped (its 'exit' has
    // been emitted by then), well before the connection ends.
    const out = outlived(
      'exit',
      `const reaped = setInterval(() => {
        try {
          process.kill(wc.getOSProcessId(), 0)
        } catch {
          clearInterval(reaped)
          wc.destroy()
        }
      }, 5)`,
    )
    expect(out).toBe('handed down true\ngone abnormal-exit 3\ndestroyed\n')
  })

  test('a listening main stays alive until it closes its server (or unrefs it)', () => {
    const out = run(`
      const { ipcMain } = require('.')
      const server = ipcMain.listen()
      setTimeout(() => { console.log('closing'); server.close() }, 50).unref()
    `)
    expect(out).toBe('closing\n')
    expect(run(`require('.').ipcMain.listen().unref(); console.log('done')`)).toBe('done\n')
  })
})
