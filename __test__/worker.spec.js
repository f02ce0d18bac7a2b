'use strict'
// Renderers in worker threads: `webContents.worker(path)`. The fixture fixtures/workers/renderer.js
// runs the scenario named in workerData and reports what it saw on the 'report' channel.

const path = require('path')
const crypto = require('crypto')
const { execFileSync } = require('child_process')
const { SHARE_ENV } = require('worker_threads')
const ipc = require('..')

const { ipcMain, webContents } = ipc
const FIXTURE = path.join(__dirname, 'fixtures', 'workers', 'renderer.js')
const DOC_FIXTURE = path.join(__dirname, 'fixtures', 'workers', 'doc-renderer.js')
// A liveness bound for child processes, not a timing assertion.
const EXIT_BOUND_MS = 30000

let started = []

/** Starts a renderer worker; remembers it so afterEach waits for it to be gone. */
function start(scenario, extra = {}, options = {}) {
  const wc = webContents.worker(FIXTURE, { ...options, workerData: { scenario, ...extra } })
  track(wc)
  return wc
}

function track(wc) {
  const gone = new Promise(resolve => wc.once('render-process-gone', (event, details) => resolve(details)))
  const destroyed = new Promise(resolve => wc.once('destroyed', resolve))
  wc.gone = gone
  wc.destroyedEvent = destroyed
  started.push(wc)
}

/** The next `count` reports of a renderer. */
function reports(wc, count = 1) {
  return new Promise(resolve => {
    const got = []
    wc.ipc.on('report', (event, value) => {
      got.push(value)
      if (got.length === count) resolve(count === 1 ? got[0] : got)
    })
  })
}

const once = (emitter, name) => new Promise(resolve => emitter.once(name, (...args) => resolve(args)))

afterEach(async () => {
  const all = started
  started = []
  ipc.reset()
  await Promise.all(all.map(wc => wc.destroyedEvent))
  expect(ipc.diagnostics()).toEqual({ pendingRequests: 0, queuedMessages: 0, webContents: 0 })
})

describe('the documentation example', () => {
  test.each(['en', 'ko'])('the %s renderer snippet runs unchanged in a worker against the main snippet', async language => {
    const printedByMain = []
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => printedByMain.push(args.join(' ')))
    try {
      let wc
      const printedByRenderer = []
      jest.isolateModules(() => {
        const electron = require('electron')
        require(`./fixtures/docs/${language}-main.js`)
        wc = electron.webContents.worker(DOC_FIXTURE, { workerData: { language } })
        track(wc)
        electron.ipcMain.on('printed', (event, line) => printedByRenderer.push(line))
      })
      while (printedByRenderer.length < 2) await once(wc.ipc, 'printed').catch(() => {}) || (await new Promise(r => setTimeout(r, 5)))
      expect(printedByRenderer).toEqual(['pong', 'pong'])
      expect(printedByMain).toEqual(['ping', 'ping'])
      wc.destroy()
      expect((await wc.gone).reason).toBe('killed')
    } finally {
      log.mockRestore()
    }
  })
})

describe('sendSync from a worker really blocks until main answers', () => {
  test('answered at once, after an await, first answer wins, undefined, no listener, bad input', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      ipcMain.on('sync-now', (event, n) => {
        event.returnValue = n * 2
      })
      ipcMain.on('sync-later', async (event, s) => {
        await new Promise(resolve => setTimeout(resolve, 20))
        event.returnValue = `${s} later`
      })
      ipcMain.on('sync-twice', event => {
        event.returnValue = 'first'
      })
      ipcMain.on('sync-twice', event => {
        event.returnValue = 'second'
      })
      ipcMain.on('sync-undefined', event => {
        event.returnValue = undefined
      })
      const wc = start('sync')
      const r = await reports(wc)
      expect(r.now).toBe(42)
      expect(r.later).toBe('x later')
      expect(r.twice).toBe('first')
      expect(r.undef).toBeUndefined()
      // Electron would block here until GC; the core answers at once.
      expect(r.nobody).toEqual({ error: 'reply was never sent' })
      expect(warn).toHaveBeenCalledWith(
        `WebContents #${wc.id} called ipcRenderer.sendSync() with 'sync-nobody' channel without listeners.`,
      )
      expect(r.cloneArg.error).toMatchObject({ message: 'An object could not be cloned.', code: 'ERR_IPC_NOT_CLONEABLE' })
      expect(r.badChannel.error).toMatchObject({ name: 'TypeError', code: 'ERR_IPC_INVALID_CHANNEL' })
    } finally {
      warn.mockRestore()
    }
  })

  test('a sync event dropped unanswered is collected, and the worker gets "reply was never sent"', async () => {
    const v8 = require('v8')
    const vm = require('vm')
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc')
    const arrived = new Promise(resolve => ipcMain.once('dropped', () => resolve()))
    const wc = start('collected')
    const result = reports(wc)
    await arrived
    let answer
    result.then(r => (answer = r))
    for (let i = 0; i < 200 && answer === undefined; i++) {
      gc()
      await new Promise(resolve => setImmediate(resolve))
    }
    expect((await result).collected).toEqual({ error: 'reply was never sent' })
  })
})

describe('invoke from a worker', () => {
  test('resolves, rejects with Electron texts, and rejects what cannot be cloned', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => {})
    try {
      ipcMain.handle('add', (event, a, b) => a + b)
      ipcMain.handle('slow', async (event, n) => {
        await new Promise(resolve => setTimeout(resolve, 10))
        return n * 10
      })
      ipcMain.handle('throws', () => {
        throw new Error('some error')
      })
      ipcMain.handle('returns-function', () => () => 1)
      const r = await reports(start('invoke'))
      expect(r.value).toEqual({ value: 5 })
      expect(r.later).toEqual({ value: 40 })
      expect(r.missing.error).toMatchObject({
        message: "Error invoking remote method 'missing': Error: No handler registered for 'missing'",
        code: 'ERR_IPC_NO_HANDLER',
      })
      expect(r.throws.error).toMatchObject({
        message: "Error invoking remote method 'throws': Error: some error",
        code: 'ERR_IPC_HANDLER_ERROR',
      })
      expect(r.cloneArg.error.message).toBe('An object could not be cloned.')
      expect(r.cloneResult.error.message).toBe(
        "Error invoking remote method 'returns-function': Error: An object could not be cloned.",
      )
      expect(r.badChannel.error.name).toBe('TypeError')
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'throws':", expect.objectContaining({ message: 'some error' }))
    } finally {
      error.mockRestore()
    }
  })

  test('a webContents.ipc handler wins over ipcMain', async () => {
    ipcMain.handle('add', () => 'main')
    const wc = start('invoke')
    wc.ipc.handle('add', () => 'contents')
    const r = await reports(wc)
    expect(r.value).toEqual({ value: 'contents' })
  })
})

describe('messages between main and a worker', () => {
  test('structured clone, dispatch order, postMessage, reply, and what main sent before the worker connected', async () => {
    const order = []
    const wc = start('values')
    // Sent before the worker has even started: kept, and delivered in order once it connects.
    wc.send('early', 1)
    wc.send('early', 2)
    wc.on('ipc-message', (event, channel) => {
      if (channel === 'values' || channel === 'posted') order.push(`contents:${channel}`)
    })
    wc.ipc.on('values', () => order.push('ipc:values'))
    ipcMain.on('values', () => order.push('main:values'))
    const values = once(ipcMain, 'values')
    const posted = once(ipcMain, 'posted')
    ipcMain.on('ask-reply', event => {
      event.reply('replied', 'reply')
      event.sender.send('replied', 'sender.send')
    })
    const got = reports(wc, 5)
    const [event, date, map, buffer, a, b, cyclic, point, undef, nan, big] = await values
    expect(date).toBeInstanceOf(Date)
    expect(date.getTime()).toBe(0)
    expect(map).toBeInstanceOf(Map)
    expect(map.get(1)).toBe('a')
    expect(buffer).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(buffer)).toBe(false)
    expect(Buffer.from(buffer).toString()).toBe('hi')
    expect(a).toBe(b)
    expect(cyclic[1]).toBe(cyclic)
    expect(Object.getPrototypeOf(point)).toBe(Object.prototype)
    expect(point).toEqual({ x: 1 })
    expect(undef).toBeUndefined()
    expect(nan).toBeNaN()
    expect(big).toBe(10n)
    expect(event).toMatchObject({ type: 'frame', processId: process.pid, frameId: 1, sender: wc })
    expect(order).toEqual(['contents:values', 'ipc:values', 'main:values'])
    const [postEvent, message] = await posted
    expect(message).toEqual({ p: 1 })
    expect(postEvent.ports).toEqual([])
    expect(postEvent.reply).toBeUndefined()
    expect(order).not.toContain('contents:posted')
    const r = await got
    expect(r[0].send.error.message).toBe('An object could not be cloned.')
    expect(r.slice(1)).toEqual(
      expect.arrayContaining([
        { early: 1, senderIsIpcRenderer: true, ports: [] },
        { early: 2, senderIsIpcRenderer: true, ports: [] },
        { replied: 'reply' },
        { replied: 'sender.send' },
      ]),
    )
    const early = r.filter(x => x.early !== undefined).map(x => x.early)
    expect(early).toEqual([1, 2])
  })

  test('100,000 messages arrive in order, none lost', async () => {
    const count = 100000
    const seen = []
    ipcMain.on('flood', (event, i) => seen.push(i))
    const wc = start('flood', { count })
    await reports(wc)
    expect(seen.length).toBe(count)
    for (let i = 0; i < count; i++) if (seen[i] !== i) throw new Error(`message ${i} arrived as ${seen[i]}`)
  })

  test('1000 random send/sendSync/invoke calls are dispatched in call order', async () => {
    const seen = []
    ipcMain.on('mixed', (event, i) => {
      seen.push(i)
      event.returnValue = i
    })
    ipcMain.handle('mixed', (event, i) => {
      seen.push(i)
      return i
    })
    await reports(start('mixed'))
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  test('payloads of 0 B to 3 MiB + 1 round-trip through invoke, sendSync and send intact', async () => {
    ipcMain.handle('echo', (event, v) => v)
    ipcMain.on('echo-sync', (event, v) => {
      event.returnValue = v
    })
    ipcMain.on('echo-send', (event, v) => event.sender.send('echoed', v))
    const results = await reports(start('payloads'))
    expect(results).toHaveLength(21)
    expect(results.filter(r => !r.ok)).toEqual([])
  })
})

describe('lifecycle', () => {
  test.each([
    ['clean', 'clean-exit', 0],
    ['code', 'abnormal-exit', 3],
    ['throw', 'crashed', 1],
  ])('a worker that ends (%s) emits render-process-gone (%s) then destroyed, and is forgotten', async (how, reason, exitCode) => {
    const events = []
    const wc = start('exit', { how })
    wc.on('render-process-gone', (event, details) => events.push(['gone', details.reason, details.exitCode]))
    wc.on('destroyed', () => events.push(['destroyed']))
    await once(ipcMain, 'started')
    const details = await wc.gone
    await wc.destroyedEvent
    expect(events).toEqual([['gone', reason, exitCode], ['destroyed']])
    if (how === 'throw') expect(details.error.message).toBe('renderer failed')
    expect(wc.isDestroyed()).toBe(true)
    expect(webContents.getAllWebContents()).not.toContain(wc)
    expect(webContents.fromId(wc.id)).toBeUndefined()
    expect(() => wc.send('x')).toThrow(expect.objectContaining({ message: 'Object has been destroyed' }))
  })

  test('a worker that exceeds its resourceLimits is gone with reason "oom"', async () => {
    const wc = start('oom', {}, { resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
    expect((await wc.gone).reason).toBe('oom')
  })

  test('a listening worker stays alive until it stops listening', async () => {
    const wc = start('listening')
    await once(ipcMain, 'listening')
    // still alive: a message reaches it, and it can be told to stop
    wc.send('stop')
    expect((await wc.gone).reason).toBe('clean-exit')
  })

  test('destroy() while the worker is blocked in sendSync ends it: killed, nothing left pending', async () => {
    const arrived = once(ipcMain, 'never')
    const wc = start('blocked')
    await arrived
    expect(ipc.diagnostics().pendingRequests).toBe(1)
    wc.destroy()
    expect(wc.isDestroyed()).toBe(true)
    const details = await wc.gone
    expect(details.reason).toBe('killed')
    expect(ipc.diagnostics().pendingRequests).toBe(0)
  })

  test('a worker killed while an invoke is pending in main leaves nothing pending', async () => {
    let release
    ipcMain.handle('slow', () => new Promise(resolve => (release = resolve)))
    ipcMain.handle('add', () => 0)
    const wc = start('invoke')
    while (release === undefined) await new Promise(resolve => setTimeout(resolve, 5))
    expect(ipc.diagnostics().pendingRequests).toBe(1)
    wc.destroy()
    await wc.gone
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    // the late answer goes nowhere and breaks nothing
    release(1)
  })

  test('options are passed to the Worker; the renderer variable does not leak to user code', async () => {
    const r = await reports(
      start('options', { extra: { a: [1] } }, { argv: ['--flag', 7], env: { ...process.env, IPC_MAIN_TEST_VAR: 'yes' } }),
    )
    expect(r).toEqual({ workerData: { a: [1] }, argv: ['--flag', '7'], env: 'yes' })
  })

  test('env: SHARE_ENV is refused with a code', () => {
    expect(() => webContents.worker(FIXTURE, { env: SHARE_ENV })).toThrow(
      expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG' }),
    )
    expect(webContents.getAllWebContents()).toEqual([])
  })
})

describe('nothing keeps a process alive, nothing hangs its exit', () => {
  const run = script =>
    execFileSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: EXIT_BOUND_MS })

  test('main exits by itself once its worker renderers have exited', () => {
    const out = run(`
      const { ipcMain, webContents } = require('.')
      ipcMain.handle('add', (e, a, b) => a + b)
      const wc = webContents.worker(${JSON.stringify(FIXTURE)}, { workerData: { scenario: 'invoke' } })
      wc.ipc.on('report', (e, r) => console.log('value', r.value.value))
      wc.on('destroyed', () => console.log('destroyed'))
    `)
    expect(out).toBe('value 5\ndestroyed\n')
  })

  test('process.exit() in main while a worker is blocked in sendSync exits', () => {
    const script = `
      const { ipcMain, webContents } = require('.')
      ipcMain.on('never', event => { globalThis.held = event; setImmediate(() => process.exit(7)) })
      webContents.worker(${JSON.stringify(FIXTURE)}, { workerData: { scenario: 'blocked' } })
    `
    let status
    try {
      run(script)
    } catch (err) {
      status = err.status
    }
    expect(status).toBe(7)
  })
})
