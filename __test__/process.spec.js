'use strict'
// What is particular to renderers in other processes: `webContents.fork`, and processes main did
// not start connecting to `ipcMain.listen()`. What they share with workers is in
// renderers.spec.js.

const path = require('path')
const net = require('net')
const { spawn, execFileSync } = require('child_process')
const ipc = require('..')
const { start, track, reports, once, cleanUp } = require('./helpers/renderers')

const { ipcMain, webContents } = ipc
const ROOT = path.join(__dirname, '..')
const FIXTURES = path.join(__dirname, 'fixtures')
// Liveness bounds (a process that hangs fails the test), not timing assertions.
const EXIT_BOUND_MS = 30000

afterEach(cleanUp)

/**
 * Resolves when process `pid` has exited. An orphan is reparented to init, which may be slow to
 * reap it: a zombie ('Z' in /proc/<pid>/stat) has exited too.
 */
async function exited(pid) {
  const fs = require('fs')
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

test('the documentation renderer snippet runs unchanged in a child process against the main snippet', async () => {
  const printedByMain = []
  const log = jest.spyOn(console, 'log').mockImplementation((...args) => printedByMain.push(args.join(' ')))
  try {
    let wc
    const printedByRenderer = []
    jest.isolateModules(() => {
      const electron = require('electron')
      require('./fixtures/docs/en-main.js')
      wc = track(electron.webContents.fork(path.join(FIXTURES, 'doc-renderer.js'), ['en']))
      electron.ipcMain.on('printed', (event, line) => printedByRenderer.push(line))
    })
    while (printedByRenderer.length < 2) await new Promise(resolve => setTimeout(resolve, 5))
    expect(printedByRenderer).toEqual(['pong', 'pong'])
    expect(printedByMain).toEqual(['ping', 'ping'])
    wc.destroy()
    expect((await wc.gone).reason).toBe('killed')
  } finally {
    log.mockRestore()
  }
})

test('args and options are passed as to child_process.fork; the connection variables do not leak', async () => {
  const r = await reports(
    start('process', 'options', {}, { cwd: FIXTURES, env: { ...process.env, IPC_MAIN_TEST_VAR: 'yes' } }),
  )
  expect(r).toMatchObject({ env: 'yes', cwd: FIXTURES, argv: [] })
  expect(r.rendererEnv).toBeUndefined()
  expect(r.addressEnv).toBeUndefined()
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
    ipcMain.handle('add', (event, a, b) => a + b)
    expect((await reports(start('process', 'invoke'))).value).toEqual({ value: 3 + 2 })
  })
})

describe('main dies while a renderer process is blocked in sendSync', () => {
  function orphan(scenario) {
    const main = spawn(process.execPath, [path.join(FIXTURES, 'orphaning-main.js'), scenario], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
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

  test('the renderer gets ERR_IPC_DISCONNECTED and exits within 1 s', async () => {
    const { main, blocked } = orphan('blocked')
    const child = await blocked
    const killedAt = Date.now()
    main.kill('SIGKILL')
    await exited(child)
    // The bound of the issue: the renderer must not outlive its main by more than a second.
    expect(Date.now() - killedAt).toBeLessThan(1000)
  })

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
    expect(webContents.getAllWebContents()).toContain(wc)
    const [, doubled, sum] = await results
    expect([doubled, sum]).toEqual([42, 3])
    wc.send('bye')
    // it said goodbye with its exit code as it exited
    expect(await wc.gone).toEqual({ reason: 'abnormal-exit', exitCode: 5 })
  })

  test('a wrong token, garbage, an oversized length and a truncated frame close only their connection', async () => {
    const server = ipcMain.listen({ maxFrameSize: 4096 })
    const errors = []
    server.on('connection-error', err => errors.push(err.code))
    const raw = bytes =>
      new Promise(resolve => {
        const socket = net.connect(server.address, () => socket.end(bytes))
        socket.on('error', () => {})
        socket.on('close', resolve)
        socket.resume()
      })
    const hello = token => {
      const json = Buffer.from(JSON.stringify({ protocol: 1, token, pid: process.pid }))
      const frame = Buffer.alloc(24 + json.length)
      frame.writeUInt32LE(20 + json.length, 0)
      frame[4] = 0x10
      json.copy(frame, 24)
      return frame
    }
    await raw(hello('0'.repeat(64)))
    await raw(Buffer.from('GET / HTTP/1.1\r\n\r\n'))
    const oversized = Buffer.alloc(4)
    oversized.writeUInt32LE(4096 + 1, 0)
    await raw(oversized)
    await raw(hello(server.token).subarray(0, 30))
    while (errors.length < 4) await new Promise(resolve => setTimeout(resolve, 5))
    expect(errors).toEqual(['ERR_IPC_BAD_TOKEN', 'ERR_IPC_BAD_FRAME', 'ERR_IPC_BAD_FRAME', 'ERR_IPC_BAD_FRAME'])
    expect(webContents.getAllWebContents()).toEqual([])
    // and main goes on serving renderers
    ipcMain.handle('add', (event, a, b) => a + b)
    expect((await reports(start('process', 'invoke'))).value).toEqual({ value: 5 })
  })

  test('a connected process that sends a payload that is not a structured clone loses its connection, nothing else', async () => {
    const server = ipcMain.listen()
    const errors = []
    server.on('connection-error', err => errors.push(err))
    const heard = []
    ipcMain.on('ch', (event, value) => heard.push(value))
    const frame = (kind, renderer, channel, payload) => {
      const name = Buffer.from(channel)
      const out = Buffer.alloc(24 + name.length + payload.length)
      out.writeUInt32LE(20 + name.length + payload.length, 0)
      out[4] = kind
      out.writeUInt32LE(renderer, 8)
      out.writeUInt32LE(name.length, 20)
      name.copy(out, 24)
      payload.copy(out, 24 + name.length)
      return out
    }
    const connected = once(server, 'connection')
    const socket = net.connect(server.address)
    socket.on('error', () => {})
    const closed = new Promise(resolve => socket.on('close', resolve))
    socket.resume()
    const hello = Buffer.from(JSON.stringify({ protocol: 1, token: server.token, pid: process.pid }))
    socket.write(frame(0x10, 0, '', hello))
    const [wc] = await connected
    track(wc)
    const destroyed = once(wc, 'destroyed')
    // a good message first, then bytes no structured-clone encoder makes (kind 1: send)
    socket.write(frame(1, wc.id, 'ch', require('v8').serialize(['fine'])))
    socket.write(frame(1, wc.id, 'ch', Buffer.from([0xff, 0x0f, 0x99, 0x42, 0x13])))
    await destroyed
    await closed
    expect(heard).toEqual(['fine'])
    expect(errors.map(e => e.code)).toEqual(['ERR_IPC_BAD_PAYLOAD'])
    expect(errors[0].message).toMatch(/channel 'ch'/)
    expect(wc.isDestroyed()).toBe(true)
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    // and main goes on serving renderers
    ipcMain.handle('add', (event, a, b) => a + b)
    expect((await reports(start('process', 'invoke'))).value).toEqual({ value: 5 })
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
    execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: EXIT_BOUND_MS })

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
