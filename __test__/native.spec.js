'use strict'
// The addon's failures reach JS as errors of this realm with a code, and never take Node down:
// a Rust panic inside an export is caught (catch_unwind) and reported as ERR_IPC_INTERNAL.

const ipc = require('..')
const native = require('../lib/native')

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
    const out = require('child_process').execFileSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: require('path').join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 30000,
    })
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
    const out = require('child_process').execFileSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: require('path').join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 30000,
    })
    expect(out).toBe('1 0\n')
  })
})

describe('large messages received and dropped are freed by young-generation collections', () => {
  // V8 collects its young generation when young ArrayBuffers' memory passes twice its semi-space
  // size, but checks only when it allocates one itself, and a received payload is memory the addon
  // allocated: without the check before each large payload is handed over, dropped ones were freed
  // only by full collections (measured here: 9 or 10 per 40 echoes on each side, no young ones;
  // with it: none in main, 1 to 4 in the renderer, about 20 young ones on each side).
  function echoes(kind, count) {
    const out = require('child_process').execFileSync(
      process.execPath,
      [require('path').join(__dirname, 'fixtures', 'young-memory-main.js'), kind, String(count)],
      { cwd: require('path').join(__dirname, '..'), encoding: 'utf8', timeout: 60000 },
    )
    return JSON.parse(out)
  }

  test('16 MiB echoes with a renderer process: main runs no full collection, young ones free them', () => {
    const { main, renderer } = echoes('process', 40)
    expect(renderer.checks).toEqual(new Array(40).fill(true))
    expect(main.youngCollections).toBeGreaterThanOrEqual(10)
    expect(renderer.youngCollections).toBeGreaterThanOrEqual(10)
    expect(main.fullCollections).toBeLessThanOrEqual(1)
    expect(renderer.fullCollections).toBeLessThanOrEqual(5)
  })

  test('16 MiB echoes with a renderer worker: both heaps run young collections for them', () => {
    // (fewer full collections too, but fewer of them are saved here than between processes: see
    // the README's performance notes)
    const { main, renderer } = echoes('worker', 40)
    expect(renderer.checks).toEqual(new Array(40).fill(true))
    expect(main.youngCollections).toBeGreaterThanOrEqual(10)
    expect(renderer.youngCollections).toBeGreaterThanOrEqual(10)
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
