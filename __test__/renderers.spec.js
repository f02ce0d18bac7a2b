'use strict'
// What every renderer outside main's thread does the same way, whether it runs in a worker thread
// (`webContents.worker`) or a child process (`webContents.fork`, over a local socket). Each test
// runs once per kind; the fixture fixtures/renderer.js runs the scenario and reports back.

const ipc = require('..')
const { start, reports, once, cleanUp } = require('./helpers/renderers')

const { ipcMain } = ipc

afterEach(cleanUp)

describe.each(['worker', 'process'])('a %s renderer', kind => {
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
    ipcMain.handle('add', () => 'main')
    const wc = start(kind, 'invoke')
    wc.ipc.handle('add', () => 'contents')
    const r = await reports(wc)
    expect(r.value).toEqual({ value: 'contents' })
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

  test('100,000 messages arrive in order, none lost', async () => {
    const count = 100000
    const seen = []
    ipcMain.on('flood', (event, i) => seen.push(i))
    const wc = start(kind, 'flood', { count })
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
    await reports(start(kind, 'mixed'))
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i))
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
    expect((await wc.gone).reason).toBe('killed')
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
    await wc.gone
    expect(ipc.diagnostics().pendingRequests).toBe(0)
    // the late answer goes nowhere and breaks nothing
    release(1)
  })
})
