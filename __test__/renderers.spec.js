'use strict'
// What every renderer outside main's thread does the same way, whether it runs in a worker thread
// (`webContents.worker`) or a child process (`webContents.fork`, over a local socket). Each test
// runs once per kind; the fixture fixtures/renderer.js runs the scenario and reports back.

const path = require('path')
const crypto = require('crypto')
const { Readable, Writable } = require('stream')
const ipc = require('..')
const { start, track, reports, once, cleanUp } = require('./helpers/renderers')

const { ipcMain } = ipc
const DOC_FIXTURE = path.join(__dirname, 'fixtures', 'doc-renderer.js')
const LANGUAGES = ['en', 'id', 'ko', 'ru', 'zh']
// What a renderer ended by destroy() exits with: a terminated worker's 1, a SIGKILLed process's
// 128 + 9.
const KILLED_EXIT_CODE = { worker: 1, process: 137 }
// The options that pipe a renderer's standard streams to main.
const PIPED_OPTIONS = {
  worker: [{ stdin: true, stdout: true, stderr: true }],
  process: [{ silent: true }, { stdio: 'pipe' }],
}

/** Everything a readable stream gives until it ends. */
function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = []
    stream.on('data', chunk => chunks.push(chunk))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

afterEach(cleanUp)

describe.each(['worker', 'process'])('a %s renderer', kind => {
  test.each(LANGUAGES)('the %s documentation renderer snippet runs unchanged against the main snippet', async language => {
    const printedByMain = []
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => printedByMain.push(args.join(' ')))
    try {
      let wc
      const printedByRenderer = []
      jest.isolateModules(() => {
        const electron = require('electron')
        require(`./fixtures/docs/${language}-main.js`)
        wc =
          kind === 'worker'
            ? electron.webContents.worker(DOC_FIXTURE, { workerData: { language } })
            : electron.webContents.fork(DOC_FIXTURE, [language])
        track(wc)
        electron.ipcMain.on('printed', (event, line) => printedByRenderer.push(line))
      })
      while (printedByRenderer.length < 2) await new Promise(resolve => setTimeout(resolve, 5))
      expect(printedByRenderer).toEqual(['pong', 'pong'])
      expect(printedByMain).toEqual(['ping', 'ping'])
      // its asynchronous-reply listener keeps it alive
      wc.destroy()
      expect(await wc.gone).toEqual({ reason: 'killed', exitCode: KILLED_EXIT_CODE[kind] })
    } finally {
      log.mockRestore()
    }
  })

  test('sendSync really blocks: answered at once, after an await, first answer wins, undefined, no listener, bad input', async () => {
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
      const wc = start(kind, 'sync')
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

  test('a large sendSync is handed to the core without a copy, and arrives whole', async () => {
    ipcMain.on('large-sync', (event, v) => {
      event.returnValue = [v.length, v[0], v[v.length - 1]]
    })
    const r = await reports(start(kind, 'largeSync'))
    expect(r.answer).toEqual([3 * 1024 * 1024 + 1, 5, 6])
    expect(r.encoded).toBeGreaterThan(3 * 1024 * 1024)
    expect(r.afterwards).toBe(0)
  })

  test('a sync event dropped unanswered is collected, and the renderer gets "reply was never sent"', async () => {
    const v8 = require('v8')
    const vm = require('vm')
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc')
    const arrived = new Promise(resolve => ipcMain.once('dropped', () => resolve()))
    const wc = start(kind, 'collected')
    const result = reports(wc)
    await arrived
    let answer
    result.then(r => (answer = r))
    for (let i = 0; i < 400 && answer === undefined; i++) {
      gc()
      await new Promise(resolve => setTimeout(resolve, 1))
    }
    expect((await result).collected).toEqual({ error: 'reply was never sent' })
  })

  test('invoke resolves, rejects with Electron texts, and rejects what cannot be cloned', async () => {
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
      const r = await reports(start(kind, 'invoke'))
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
    // the scenario's other invokes have no handler here: main logs each
    const error = jest.spyOn(console, 'error').mockImplementation(() => {})
    try {
      ipcMain.handle('add', () => 'main')
      const wc = start(kind, 'invoke')
      wc.ipc.handle('add', () => 'contents')
      const r = await reports(wc)
      expect(r.value).toEqual({ value: 'contents' })
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'missing':", expect.any(Error))
    } finally {
      error.mockRestore()
    }
  })

  test('structured clone, dispatch order, postMessage, reply, and what main sent before the renderer connected', async () => {
    const order = []
    const wc = start(kind, 'values')
    // Sent before the renderer has even started: kept, and delivered in order once it connects.
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
    expect(event).toMatchObject({ type: 'frame', frameId: 1, sender: wc })
    expect(event.processId).toBe(kind === 'worker' ? process.pid : wc._processId)
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

  test('100,000 messages to main arrive in order, none lost', async () => {
    const count = 100000
    const seen = []
    ipcMain.on('flood', (event, i) => seen.push(i))
    const wc = start(kind, 'flood', { count })
    await reports(wc)
    expect(seen.length).toBe(count)
    for (let i = 0; i < count; i++) if (seen[i] !== i) throw new Error(`message ${i} arrived as ${seen[i]}`)
  })

  test('a burst of every size, with requests among the sends, arrives in call order and intact', async () => {
    const seen = []
    const bad = []
    const check = (i, text) => {
      // Main busy at first: a worker fills its send ring meanwhile, and hands it over itself.
      if (i === 0) for (const until = Date.now() + 100; Date.now() < until; );
      seen.push(i)
      if (text !== undefined && text !== String.fromCharCode(97 + (i % 26)).repeat(text.length)) bad.push(i)
    }
    ipcMain.on('burst', (event, i, text) => check(i, text))
    ipcMain.on('burst-post', (event, [i, text]) => check(i, text))
    ipcMain.handle('burst-invoke', (event, i) => check(i))
    ipcMain.on('burst-sync', (event, i) => {
      check(i)
      event.returnValue = i
    })
    const wc = start(kind, 'burst')
    expect(await reports(wc)).toBe('burst done')
    expect(bad).toEqual([])
    expect(seen.length).toBe(30000)
    for (let i = 0; i < seen.length; i++) if (seen[i] !== i) throw new Error(`call ${i} arrived as ${seen[i]}`)
  })

  test('what a renderer sent right before it exited reaches main, in order', async () => {
    const count = 5000
    const seen = []
    ipcMain.on('last-words', (event, i) => seen.push(i))
    const wc = start(kind, 'sendThenExit', { count })
    expect(await wc.gone).toEqual({ reason: 'clean-exit', exitCode: 0 })
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i))
  })

  test('100,000 messages from main arrive in order, none lost', async () => {
    const count = 100000
    const wc = start(kind, 'sink')
    const result = reports(wc)
    await once(wc.ipc, 'ready')
    for (let i = 0; i < count; i++) wc.send('flood', i)
    wc.send('flood-end')
    expect(await result).toEqual({ count, firstOutOfOrder: -1 })
  })

  test('messages from main that arrive while it is blocked in sendSync are delivered after it returns, in order, none lost', async () => {
    const count = 1000
    ipcMain.on('push-then-answer', (event, n) => {
      for (let i = 0; i < n; i++) event.sender.send('pushed', i)
      // answered later, so they have surely arrived while it was blocked
      setTimeout(() => {
        event.returnValue = `answered after ${n}`
        event.sender.send('pushed-end')
      }, 20)
    })
    const r = await reports(start(kind, 'pushedWhileBlocked', { count }))
    expect(r.answer).toBe(`answered after ${count}`)
    // no listener ran inside sendSync
    expect(r.duringSync).toBe(0)
    expect(r.received).toEqual(Array.from({ length: count }, (_, i) => i))
  })

  test('1000 random send/sendSync/invoke/postMessage calls are dispatched in call order, each answered with its own result', async () => {
    const seen = []
    const wc = start(kind, 'mixed')
    // which call each message was, as main sees it: sendSync's come through ipc-message-sync
    // first, postMessage's have no reply
    const syncs = new Set()
    wc.on('ipc-message-sync', (event, channel, i) => syncs.add(i))
    ipcMain.on('mixed', (event, i) => {
      seen.push(`${event.reply === undefined ? 'postMessage' : syncs.has(i) ? 'sendSync' : 'send'} ${i}`)
      // only a sendSync's event has the setter; on the others this is a plain property
      event.returnValue = `sync ${i}`
    })
    ipcMain.handle('mixed', (event, i) => {
      seen.push(`invoke ${i}`)
      return `invoke ${i}`
    })
    const r = await reports(wc)
    expect(r.calls).toHaveLength(1000)
    expect(seen).toEqual(r.calls.map((how, i) => `${how} ${i}`))
    expect(r.mismatches).toEqual([])
    // the mix really has every kind of call
    for (const how of ['send', 'sendSync', 'invoke', 'postMessage']) {
      expect(r.calls.filter(c => c === how).length).toBeGreaterThan(100)
    }
  })

  test('payloads of 0 B to 3 MiB + 1 round-trip through invoke, sendSync and send intact', async () => {
    ipcMain.handle('echo', (event, v) => v)
    ipcMain.on('echo-sync', (event, v) => {
      event.returnValue = v
    })
    ipcMain.on('echo-send', (event, v) => event.sender.send('echoed', v))
    const results = await reports(start(kind, 'payloads'))
    expect(results).toHaveLength(21)
    expect(results.filter(r => !r.ok)).toEqual([])
  })

  test('a large Buffer changed right after the call that sends it arrives as it was sent, both ways, in order', async () => {
    const seen = b => ({ length: b.length, fill: b.every(x => x === b[0]) ? b[0] : -1 })
    const got = {}
    const burst = []
    ipcMain.on('changed-send', (event, b) => (got.send = seen(b)))
    ipcMain.on('changed-post', (event, b) => (got.post = seen(b)))
    ipcMain.handle('changed-invoke', (event, b) => {
      got.invoke = seen(b)
      return b
    })
    ipcMain.on('changed-burst', (event, i, b) => burst.push([i, seen(b)]))
    ipcMain.on('changed-push-me', event => {
      for (let i = 0; i < 8; i++) {
        const b = Buffer.alloc(1024 * 1024, 10 + i)
        event.sender.send('changed-pushed', i, b)
        b.fill(0xee)
      }
    })
    const r = await reports(start(kind, 'changedAfterSend'))
    const MiB = 1024 * 1024
    expect(got).toEqual({ send: { length: MiB, fill: 1 }, post: { length: MiB, fill: 2 }, invoke: { length: MiB, fill: 3 } })
    expect(r.answer).toEqual({ length: MiB, fill: 3 })
    expect(burst).toEqual(Array.from({ length: 32 }, (_, i) => [i, { length: MiB / 2, fill: i }]))
    expect(r.pushed).toEqual(Array.from({ length: 8 }, (_, i) => [i, { length: MiB, fill: 10 + i }]))
  })

  test('a renderer that ends by itself emits render-process-gone then destroyed, and is forgotten', async () => {
    const events = []
    const wc = start(kind, 'exit', { how: 'clean' })
    wc.on('render-process-gone', (event, details) => events.push(['gone', details.reason, details.exitCode]))
    wc.on('destroyed', () => events.push(['destroyed']))
    await once(ipcMain, 'started')
    await wc.destroyedEvent
    expect(events).toEqual([['gone', 'clean-exit', 0], ['destroyed']])
    expect(wc.isDestroyed()).toBe(true)
    expect(ipc.webContents.getAllWebContents()).not.toContain(wc)
    expect(ipc.webContents.fromId(wc.id)).toBeUndefined()
    expect(() => wc.send('x')).toThrow(expect.objectContaining({ message: 'Object has been destroyed' }))
  })

  test('exiting with a code is an abnormal exit', async () => {
    const wc = start(kind, 'exit', { how: 'code' })
    expect(await wc.gone).toMatchObject({ reason: 'abnormal-exit', exitCode: 3 })
  })

  test('a listening renderer stays alive until it stops listening', async () => {
    const wc = start(kind, 'listening')
    await once(ipcMain, 'listening')
    wc.send('stop')
    expect((await wc.gone).reason).toBe('clean-exit')
  })

  test('destroy() while the renderer is blocked in sendSync ends it: killed, nothing left pending', async () => {
    const arrived = once(ipcMain, 'never')
    const wc = start(kind, 'blocked')
    await arrived
    expect(ipc.diagnostics().pendingRequests).toBe(1)
    wc.destroy()
    expect(wc.isDestroyed()).toBe(true)
    expect(await wc.gone).toEqual({ reason: 'killed', exitCode: KILLED_EXIT_CODE[kind] })
    expect(ipc.diagnostics().pendingRequests).toBe(0)
  })

  test('a renderer killed while an invoke is pending in main leaves nothing pending', async () => {
    let release
    ipcMain.handle('slow', () => new Promise(resolve => (release = resolve)))
    ipcMain.handle('add', () => 0)
    const wc = start(kind, 'invoke')
    while (release === undefined) await new Promise(resolve => setTimeout(resolve, 5))
    expect(ipc.diagnostics().pendingRequests).toBe(1)
    wc.destroy()
    expect(await wc.gone).toEqual({ reason: 'killed', exitCode: KILLED_EXIT_CODE[kind] })
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    // the late answer goes nowhere and breaks nothing
    release(1)
  })

  test("getOSProcessId() is the OS process id of the renderer's process", async () => {
    const wc = start(kind, 'options')
    const r = await reports(wc)
    expect(wc.getOSProcessId()).toBe(r.pid)
    if (kind === 'worker') expect(r.pid).toBe(process.pid)
    else expect(r.pid).not.toBe(process.pid)
  })

  test.each(PIPED_OPTIONS[kind])('with %p its stdout and stderr are readable by main: 1 MiB arrives whole', async options => {
    const wc = start(kind, 'piped', {}, options)
    expect(wc.stdin).toBeInstanceOf(Writable)
    expect(wc.stdout).toBeInstanceOf(Readable)
    expect(wc.stderr).toBeInstanceOf(Readable)
    const out = readAll(wc.stdout)
    const err = readAll(wc.stderr)
    const r = await reports(wc)
    const bytes = await out
    expect(bytes.length).toBe(r.length)
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(r.sha)
    expect((await err).toString()).toBe('to stderr\n')
    expect(await wc.gone).toEqual({ reason: 'clean-exit', exitCode: 0 })
    expect(wc.getOSProcessId()).toBe(r.pid)
  })
})
