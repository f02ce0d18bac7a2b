'use strict'
// The addon's failures reach JS as errors of this realm with a code, and never take Node down:
// a Rust panic inside an export is caught (catch_unwind) and reported as ERR_IPC_INTERNAL.

const path = require('path')
const { execFileSync } = require('child_process')
const ipc = require('..')
const native = require('../lib/native')

const ROOT = path.join(__dirname, '..')

/** Runs `node ...args` from the repo root in a process of its own; returns what it printed. */
const inOwnProcess = (args, { timeout, env = process.env }) =>
  execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout, env })

afterEach(() => ipc.reset())

test('a Rust panic in an export is an ERR_IPC_INTERNAL error, and everything goes on', async () => {
  let err
  try {
    native.binding.panicForTest('deliberate panic')
  } catch (e) {
    err = native.wrap(e)
  }
  // an Error of this realm (under jest, the addon's own errors are not)
  expect(err).toBeInstanceOf(Error)
  expect(err.code).toBe('ERR_IPC_INTERNAL')
  expect(err.message).toMatch(/^ipc-main internal error \(\w+\): .*deliberate panic/)
  // the core is intact: a round trip still works
  ipc.ipcMain.handle('after', (event, n) => n + 1)
  await expect(ipc.ipcRenderer.invoke('after', 1)).resolves.toBe(2)
})

test("the core's own errors keep their code, and TypeErrors stay TypeErrors", () => {
  const wc = ipc.webContents.create()
  wc.destroy()
  let err
  try {
    ipc.ipcRenderer.send(42)
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(TypeError)
  expect(() => wc.send('ch')).toThrow(expect.objectContaining({ code: 'ERR_IPC_OBJECT_DESTROYED', message: 'Object has been destroyed' }))
})

describe('large messages are encoded into memory the addon lends, and taken over when sent', () => {
  const clone = require('../lib/clone')
  const BIG = 3 * 1024 * 1024 + 1

  afterEach(() => jest.restoreAllMocks())

  // A payload the core copied would leave the encoder's buffer as it was; one taken over is
  // detached from JS (it reads as empty) the moment the call returns.
  function encodedThenSent(send) {
    const encoded = []
    const real = clone.serializeArgs
    jest.spyOn(clone, 'serializeArgs').mockImplementation(args => {
      const bytes = real(args)
      encoded.push({ bytes, length: bytes.byteLength })
      return bytes
    })
    send()
    return encoded
  }

  test.each([
    ['ipcRenderer.send', (wc, v) => wc.ipcRenderer.send('big', v)],
    ['ipcRenderer.invoke', (wc, v) => wc.ipcRenderer.invoke('big', v)],
    ['webContents.send', (wc, v) => wc.send('big', v)],
  ])('%s: no copy, and the value arrives whole', async (what, send) => {
    const wc = ipc.webContents.create()
    const value = Buffer.alloc(BIG, 7)
    value[BIG - 1] = 9
    const arrived = new Promise(resolve => {
      ipc.ipcMain.on('big', (e, v) => resolve(v))
      ipc.ipcMain.handle('big', (e, v) => resolve(v))
      wc.ipcRenderer.on('big', (e, v) => resolve(v))
    })
    const [sent] = encodedThenSent(() => send(wc, value))
    expect(sent.length).toBeGreaterThan(BIG)
    expect(sent.bytes.byteLength).toBe(0)
    const v = await arrived
    expect(v).toBeInstanceOf(Uint8Array)
    expect(v.length).toBe(BIG)
    expect(v[0]).toBe(7)
    expect(v[BIG - 1]).toBe(9)
  })

  test('small messages are copied from the scratch buffer, which stays usable', () => {
    const wc = ipc.webContents.create()
    ipc.ipcMain.on('small', () => {})
    const [sent] = encodedThenSent(() => wc.ipcRenderer.send('small', 'x'.repeat(100)))
    expect(sent.bytes.byteLength).toBe(sent.length)
  })

  test('where the addon cannot lend memory, large messages go in ordinary Buffers, copied', async () => {
    clone.setLargeAllocator(() => null)
    try {
      const wc = ipc.webContents.create()
      const arrived = new Promise(resolve => ipc.ipcMain.on('big', (e, v) => resolve(v)))
      const [sent] = encodedThenSent(() => wc.ipcRenderer.send('big', Buffer.alloc(BIG, 3)))
      expect(sent.bytes.byteLength).toBe(sent.length)
      const v = await arrived
      expect(v.length).toBe(BIG)
      expect(v[BIG - 1]).toBe(3)
    } finally {
      clone.setLargeAllocator(size => native.binding.allocPayload(size))
    }
  })

  test("a lent buffer counts once in V8's external memory (V8 counts it; the addon adds nothing)", () => {
    // Counted twice, every large message made a full collection twice as likely. Measured in a
    // process of its own, settled by collections first: in this one, buffers of earlier tests
    // may be freed in between and take external memory down.
    const script = `
      const { binding } = require('./lib/native')
      globalThis.gc()
      setImmediate(() => {
        globalThis.gc()
        const before = binding.externalMemory()
        const lent = binding.allocPayload(${BIG})
        console.log(lent.byteLength, binding.externalMemory() - before)
      })
    `
    const out = inOwnProcess(['--expose-gc', '-e', script], { timeout: 30000 })
    const [length, added] = out.trim().split(' ').map(Number)
    expect(length).toBe(BIG)
    expect(added).toBeGreaterThanOrEqual(BIG)
    expect(added).toBeLessThan(2 * BIG)
  })

  test('a lent buffer that is never sent is given back when collected', () => {
    const script = `
      const clone = require('./lib/clone')
      const { binding } = require('./lib/native')
      let bytes = clone.serializeArgs([Buffer.alloc(${BIG})])
      const lent = binding.lentPayloads()
      bytes = null
      globalThis.gc()
      setImmediate(() => { globalThis.gc(); setImmediate(() => console.log(lent, binding.lentPayloads())) })
    `
    const out = inOwnProcess(['--expose-gc', '-e', script], { timeout: 30000 })
    expect(out).toBe('1 0\n')
  })
})

describe('large payloads the addon hands to JS are freed by young-generation collections', () => {
  // V8 collects its young generation when young ArrayBuffers' memory passes twice its semi-space
  // size, but checks only when it allocates one itself, and these are memory the addon allocated:
  // without the check before each is handed over (IPC_MAIN_YOUNG_CHECK=0 turns it off), dropped
  // ones were freed only by full collections. Each case runs in processes of its own (no
  // collection of jest's heap counted), with the check and without it.
  const run = (args, check) =>
    JSON.parse(inOwnProcess(args, { timeout: 60000, env: { ...process.env, IPC_MAIN_YOUNG_CHECK: check ? '1' : '0' } }))
  const echoes = (kind, check) => run([path.join(__dirname, 'fixtures', 'young-memory-main.js'), kind, '40'], check)
  const full = r => r.main.fullCollections + r.renderer.fullCollections
  // Both ways, every echo intact; with the check, young collections on both sides.
  function compared(kind) {
    const withCheck = echoes(kind, true)
    const without = echoes(kind, false)
    for (const r of [withCheck, without]) expect(r.renderer.checks).toEqual(new Array(40).fill(true))
    expect(withCheck.main.youngCollections).toBeGreaterThanOrEqual(10)
    expect(withCheck.renderer.youngCollections).toBeGreaterThanOrEqual(10)
    return { withCheck, without }
  }

  test('16 MiB echoes with a renderer process: main runs at most one full collection, young ones free them', () => {
    // Measured here per 40 echoes: with the check, no full collection in main and 1 to 4 in the
    // renderer, about 20 young ones on each side; without it, 8 to 10 full ones on each side.
    const { withCheck, without } = compared('process')
    expect(withCheck.main.fullCollections).toBeLessThanOrEqual(1)
    expect(full(withCheck)).toBeLessThan(full(without) / 2)
  })

  test('16 MiB echoes with a renderer worker: both heaps run young collections for them, and fewer full ones', () => {
    // (fewer full ones are saved than between processes: up to 8 in main and 10 in the worker
    // per 40 echoes, against 12 or 13 on each side without the check)
    const { withCheck, without } = compared('worker')
    expect(full(withCheck)).toBeLessThan(full(without))
  })

  test('buffers the encoder grew out of (a large value that is not a Buffer) are freed by young collections', () => {
    // 8 MiB of text: the encoder grows through lent buffers of 2.25, 4.5 and 9 MiB and drops
    // the smaller ones. Measured: no full collection and 5 young ones per 40 messages with the
    // check, 2 full ones and no young one without.
    const script = `
      const clone = require('./lib/clone')
      require('./lib/native') // (which makes the addon the encoder's large allocator)
      const { countCollections } = require('./__test__/helpers/collections')
      const big = 'é'.repeat(4 << 20)
      for (let i = 0; i < 4; i++) clone.serializeArgs([big])
      const collections = countCollections()
      for (let i = 0; i < 40; i++) clone.serializeArgs([big])
      collections.stop().then(r => console.log(JSON.stringify(r)))
    `
    const withCheck = run(['-e', script], true)
    const without = run(['-e', script], false)
    expect(withCheck.youngCollections).toBeGreaterThanOrEqual(3)
    expect(withCheck.fullCollections).toBeLessThan(without.fullCollections)
  })
})

describe('nextStaged checks what it is handed', () => {
  // An outbox entry as lib/context.js stages it: renderer, kind, channel, length, payload (4-aligned).
  function outboxOf(entries) {
    const bytes = new Uint8Array(4096)
    const words = new Uint32Array(bytes.buffer)
    let at = 0
    for (const [renderer, kind, channel, payload] of entries) {
      words.set([renderer, kind, channel, payload.length], at / 4)
      bytes.set(payload, at + 16)
      at = (at + 16 + payload.length + 3) & ~3
    }
    return { bytes, length: at }
  }

  test('an outbox overlapping the batch, or shorter than its length, is refused with a code', () => {
    const ctx = ipc.webContents.create().ipcRenderer._ipc.ctx
    const batch = Buffer.alloc(1024)
    expect(() => native.binding.nextStaged(ctx.id, batch, batch.subarray(512), 16)).toThrow(
      expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG' }),
    )
    expect(() => native.binding.nextStaged(ctx.id, batch, new Uint8Array(8), 16)).toThrow(
      expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG' }),
    )
  })

  test('a malformed outbox is an error, and the good entries before it are delivered all the same', async () => {
    const wc = ipc.webContents.create()
    const ctx = wc.ipcRenderer._ipc.ctx
    const got = []
    ipc.ipcMain.on('m', (e, v) => got.push(v))
    const channel = native.channelId('m')
    const clone = require('../lib/clone')
    const good = Uint8Array.from(clone.serializeArgs([1]))
    const rendererId = wc.ipcRenderer._id()
    const { bytes, length } = outboxOf([
      [rendererId, native.Kind.SEND, channel, good],
      [rendererId, native.Kind.INVOKE, channel, good],
    ])
    expect(() => native.binding.nextStaged(ctx.id, Buffer.alloc(4096), bytes, length)).toThrow(
      expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG', message: expect.stringContaining('malformed outbox') }),
    )
    ctx.schedule()
    await new Promise(resolve => setImmediate(resolve))
    expect(got).toEqual([1])
  })
})
