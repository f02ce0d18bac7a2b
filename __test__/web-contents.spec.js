'use strict'
// The webContents module and WebContents against Electron's semantics (reference §1.3, §1.6,
// §2.1, §5, §6, §7.3 WebContents.ipc, §7.4): create/getAllWebContents/fromId, send, the dispatch
// chain 'ipc-message' -> webContents.ipc -> ipcMain, event fields, reply, destroy and reset.

const events = require('events')
const ipc = require('..')
const { captureUncaught, thrownBy } = require('./helpers/errors')
const { ipcMain, ipcRenderer, webContents } = ipc

const tick = () => new Promise(resolve => setImmediate(resolve))
const NEVER_SENT = { error: 'reply was never sent' }

afterEach(() => {
  jest.restoreAllMocks()
  ipc.reset()
})

/** Waits (a bounded number of event-loop turns, not a time) until `done()` holds. */
async function until(done) {
  for (let i = 0; i < 100 && !done(); i++) await tick()
}

describe('the webContents module', () => {
  test('create() makes a WebContents with an id, ipc and its own ipcRenderer', () => {
    const wc = webContents.create()
    expect(wc).toBeInstanceOf(events.EventEmitter)
    expect(Number.isInteger(wc.id)).toBe(true)
    expect(wc.id).toBeGreaterThan(0)
    expect(wc.ipc).toBeInstanceOf(events.EventEmitter)
    expect(typeof wc.ipc.handle).toBe('function')
    expect(wc.ipc).not.toBe(ipcMain)
    expect(wc.ipcRenderer).toBeInstanceOf(events.EventEmitter)
    expect(wc.ipcRenderer).not.toBe(ipcRenderer)
    expect(wc.isDestroyed()).toBe(false)
    // Electron's ipc emitter has the no-op error listener too; the WebContents itself has none.
    expect(wc.ipc.eventNames()).toEqual(['error'])
    expect(wc.eventNames()).toEqual([])
  })

  test('getAllWebContents() lists the live ones, oldest first; fromId() finds them', () => {
    const a = webContents.create()
    const b = webContents.create()
    const c = webContents.create()
    expect(webContents.getAllWebContents()).toEqual([a, b, c])
    expect(webContents.fromId(b.id)).toBe(b)
    b.destroy()
    expect(webContents.getAllWebContents()).toEqual([a, c])
    expect(webContents.fromId(b.id)).toBeUndefined()
    expect(webContents.fromId(123456789)).toBeUndefined()
  })

  test('the default renderer gets a WebContents on first use, listed like the others', async () => {
    expect(webContents.getAllWebContents()).toEqual([])
    const got = events.once(ipcMain, 'hello')
    ipcRenderer.send('hello')
    const [event] = await got
    expect(webContents.getAllWebContents()).toEqual([event.sender])
    expect(webContents.fromId(event.sender.id)).toBe(event.sender)
  })

  test('ids are unique, never reused, and readable after destroy', () => {
    const seen = new Set()
    for (let i = 0; i < 20; i++) {
      const wc = webContents.create()
      expect(seen.has(wc.id)).toBe(false)
      seen.add(wc.id)
      const id = wc.id
      wc.destroy()
      expect(wc.id).toBe(id)
    }
    expect(seen.size).toBe(20)
  })

  test('id cannot be reassigned', () => {
    const wc = webContents.create()
    const id = wc.id
    try {
      wc.id = id + 1
    } catch {
      // strict mode: assigning a read-only property throws; either way it must not change
    }
    expect(wc.id).toBe(id)
  })

  test('a second load of the module is a separate main side with its own renderers', async () => {
    let other
    jest.isolateModules(() => {
      other = require('..')
    })
    expect(other.ipcMain).not.toBe(ipcMain)
    const mine = jest.fn()
    const theirs = jest.fn()
    ipcMain.on('isolated', mine)
    other.ipcMain.on('isolated', theirs)
    const wc = other.webContents.create()
    expect(wc.id).not.toBe(webContents.create().id)
    wc.ipcRenderer.send('isolated', 1)
    await tick()
    expect(theirs).toHaveBeenCalledTimes(1)
    expect(mine).not.toHaveBeenCalled()
    expect(webContents.fromId(wc.id)).toBeUndefined()
    other.reset()
  })
})

describe('webContents.send(channel, args...)', () => {
  test('delivers to that renderer only, in order, never inside the call', async () => {
    const a = webContents.create()
    const b = webContents.create()
    const gotA = []
    const gotB = []
    const gotDefault = []
    a.ipcRenderer.on('m', (e, n) => gotA.push(n))
    b.ipcRenderer.on('m', (e, n) => gotB.push(n))
    ipcRenderer.on('m', (e, n) => gotDefault.push(n))
    a.send('m', 1)
    a.send('m', 2)
    b.send('m', 'b')
    a.send('m', 3)
    expect(gotA).toEqual([])
    await tick()
    expect(gotA).toEqual([1, 2, 3])
    expect(gotB).toEqual(['b'])
    expect(gotDefault).toEqual([])
  })

  test('throws an error when the channel is missing', () => {
    const wc = webContents.create()
    for (const call of [() => wc.send(), () => wc.send(null)]) {
      let err
      try {
        call()
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toBe('Missing required channel argument')
      expect(err.code).toBe('ERR_IPC_INVALID_CHANNEL')
    }
  })

  test("throws TypeError 'Object has been destroyed' after destroy", () => {
    const wc = webContents.create()
    wc.destroy()
    let err
    try {
      wc.send('x', 1)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toBe('Object has been destroyed')
    expect(err.code).toBe('ERR_IPC_OBJECT_DESTROYED')
  })

  test('a value that cannot be cloned: no throw, console.error, nothing sent', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => {})
    const wc = webContents.create()
    const listener = jest.fn()
    wc.ipcRenderer.on('bad', listener)
    expect(wc.send('bad', 'fine', () => {})).toBeUndefined()
    expect(error).toHaveBeenCalledTimes(1)
    const [prefix, err] = error.mock.calls[0]
    expect(prefix).toBe('Error sending from webFrameMain: ')
    expect(err).toBeInstanceOf(Error)
    expect(err.message).toBe('Failed to serialize arguments')
    await tick()
    expect(listener).not.toHaveBeenCalled()
    // and the WebContents is still usable
    const got = events.once(wc.ipcRenderer, 'good')
    wc.send('good', 1)
    expect((await got)[1]).toBe(1)
  })

  test('a renderer-side listener error does not stop later messages', async () => {
    const wc = webContents.create()
    const boom = new Error('renderer listener failed')
    const got = []
    wc.ipcRenderer.on('m', (e, n) => {
      if (n === 1) throw boom
      got.push(n)
    })
    const errors = await captureUncaught(async errs => {
      wc.send('m', 1)
      wc.send('m', 2)
      await until(() => got.length === 1 && errs.length === 1)
    })
    expect(got).toEqual([2])
    expect(errors).toEqual([boom])
  })
})

describe('dispatch to main', () => {
  test("emits 'ipc-message' when the renderer process sends an asynchronous message", async () => {
    const wc = webContents.create()
    const got = events.once(wc, 'ipc-message')
    wc.ipcRenderer.send('message', 'Hello World!')
    const [event, channel, message] = await got
    expect(channel).toBe('message')
    expect(message).toBe('Hello World!')
    expect(event.sender).toBe(wc)
  })

  test("emits 'ipc-message-sync' when the renderer process sends a synchronous message", () => {
    const wc = webContents.create()
    wc.on('ipc-message-sync', (event, channel, arg) => {
      expect(channel).toBe('message')
      expect(arg).toBe('Hello World!')
      event.returnValue = 'foobar'
    })
    expect(wc.ipcRenderer.sendSync('message', 'Hello World!')).toBe('foobar')
  })

  test("send: 'ipc-message', then webContents.ipc, then ipcMain, with one event object", async () => {
    const wc = webContents.create()
    const calls = []
    wc.on('ipc-message', (event, channel, ...args) => calls.push(['ipc-message', event, channel, args]))
    wc.ipc.on('ch', (event, ...args) => calls.push(['webContents.ipc', event, 'ch', args]))
    ipcMain.on('ch', (event, ...args) => calls.push(['ipcMain', event, 'ch', args]))
    wc.ipcRenderer.send('ch', 1, 2)
    await tick()
    expect(calls.map(c => c[0])).toEqual(['ipc-message', 'webContents.ipc', 'ipcMain'])
    for (const c of calls) {
      expect(c[1]).toBe(calls[0][1])
      expect(c[2]).toBe('ch')
      expect(c[3]).toEqual([1, 2])
    }
  })

  test("sendSync: 'ipc-message-sync', then webContents.ipc, then ipcMain; the first returnValue wins", () => {
    const wc = webContents.create()
    const calls = []
    wc.on('ipc-message-sync', (event, channel, arg) => {
      calls.push(['ipc-message-sync', channel, arg])
      event.returnValue = 'from the event'
    })
    wc.ipc.on('ch', (event, arg) => {
      calls.push(['webContents.ipc', arg])
      event.returnValue = 'from webContents.ipc'
    })
    ipcMain.on('ch', (event, arg) => {
      calls.push(['ipcMain', arg])
      event.returnValue = 'from ipcMain'
    })
    expect(wc.ipcRenderer.sendSync('ch', 7)).toBe('from the event')
    expect(calls).toEqual([['ipc-message-sync', 'ch', 7], ['webContents.ipc', 7], ['ipcMain', 7]])
  })

  test("'ipc-message' is not emitted for sendSync, nor 'ipc-message-sync' for send", async () => {
    const wc = webContents.create()
    const async = jest.fn()
    const sync = jest.fn(e => {
      e.returnValue = 1
    })
    wc.on('ipc-message', async)
    wc.on('ipc-message-sync', sync)
    wc.ipcRenderer.sendSync('s')
    expect(async).not.toHaveBeenCalled()
    wc.ipcRenderer.send('a')
    await tick()
    expect(async).toHaveBeenCalledTimes(1)
    expect(sync).toHaveBeenCalledTimes(1)
  })

  test('cascades to ipcMain', async () => {
    const wc = webContents.create()
    const order = []
    wc.ipc.on('test', () => order.push('webContents.ipc'))
    ipcMain.on('test', () => order.push('ipcMain'))
    wc.ipcRenderer.send('test', 42)
    await tick()
    expect(order).toEqual(['webContents.ipc', 'ipcMain'])
  })

  test('receives ipc messages sent from the WebContents', async () => {
    const wc = webContents.create()
    const got = events.once(wc.ipc, 'test')
    wc.ipcRenderer.send('test', 42)
    const [, num] = await got
    expect(num).toBe(42)
  })

  test('receives sync-ipc messages sent from the WebContents', () => {
    const wc = webContents.create()
    wc.ipc.on('test', (event, arg) => {
      event.returnValue = arg * 2
    })
    expect(wc.ipcRenderer.sendSync('test', 42)).toBe(84)
  })

  test('receives postMessage messages sent from the WebContents', async () => {
    const wc = webContents.create()
    const got = events.once(wc.ipc, 'test')
    wc.ipcRenderer.postMessage('test', 42)
    const [event, num] = await got
    expect(num).toBe(42)
    expect(event.ports).toEqual([])
  })

  test("webContents.ipc and the WebContents events only see their own renderer's messages", async () => {
    const a = webContents.create()
    const b = webContents.create()
    const scoped = []
    const contentsEvent = []
    const main = []
    a.ipc.on('m', (e, v) => scoped.push(v))
    a.on('ipc-message', (e, ch, v) => contentsEvent.push(v))
    ipcMain.on('m', (e, v) => main.push([e.sender.id, v]))
    a.ipcRenderer.send('m', 'from a')
    b.ipcRenderer.send('m', 'from b')
    ipcRenderer.send('m', 'from default')
    await tick()
    expect(scoped).toEqual(['from a'])
    expect(contentsEvent).toEqual(['from a'])
    expect(main.map(m => m[1])).toEqual(['from a', 'from b', 'from default'])
    expect(main[0][0]).toBe(a.id)
    expect(main[1][0]).toBe(b.id)
  })

  test('a listener that throws stops the chain for that message only, and the error is uncaught', async () => {
    const wc = webContents.create()
    const boom = new Error('listener failed')
    const order = []
    wc.ipc.on('ch', (e, n) => {
      order.push(['webContents.ipc', n])
      if (n === 1) throw boom
    })
    ipcMain.on('ch', (e, n) => order.push(['ipcMain', n]))
    const errors = await captureUncaught(async errs => {
      wc.ipcRenderer.send('ch', 1)
      wc.ipcRenderer.send('ch', 2)
      await until(() => errs.length > 0 && order.length >= 3)
    })
    expect(order).toEqual([
      ['webContents.ipc', 1],
      ['webContents.ipc', 2],
      ['ipcMain', 2],
    ])
    expect(errors).toEqual([boom])
  })

  test("an 'ipc-message' listener that throws stops webContents.ipc and ipcMain for that message", async () => {
    const wc = webContents.create()
    const boom = new Error('event listener failed')
    const order = []
    wc.on('ipc-message', (e, ch, n) => {
      order.push(['ipc-message', n])
      if (n === 1) throw boom
    })
    wc.ipc.on('ch', (e, n) => order.push(['webContents.ipc', n]))
    ipcMain.on('ch', (e, n) => order.push(['ipcMain', n]))
    const errors = await captureUncaught(async errs => {
      wc.ipcRenderer.send('ch', 1)
      wc.ipcRenderer.send('ch', 2)
      await until(() => errs.length > 0 && order.length >= 4)
    })
    expect(order).toEqual([
      ['ipc-message', 1],
      ['ipc-message', 2],
      ['webContents.ipc', 2],
      ['ipcMain', 2],
    ])
    expect(errors).toEqual([boom])
  })

  test('errors of several messages in one batch are each reported, and every later message arrives', async () => {
    const wc = webContents.create()
    const got = []
    ipcMain.on('ch', (e, n) => {
      got.push(n)
      if (n % 2 === 0) throw new Error(`failed ${n}`)
    })
    const errors = await captureUncaught(async errs => {
      for (let i = 0; i < 6; i++) wc.ipcRenderer.send('ch', i)
      await until(() => errs.length >= 3 && got.length >= 6)
    })
    expect(got).toEqual([0, 1, 2, 3, 4, 5])
    expect(errors.map(e => e.message)).toEqual(['failed 0', 'failed 2', 'failed 4'])
  })

  test('a listener that throws during sendSync: the sender is not answered, the error is uncaught', async () => {
    const wc = webContents.create()
    const boom = new Error('sync listener failed')
    const after = jest.fn()
    ipcMain.on('sync', () => {
      throw boom
    })
    ipcMain.on('sync', after)
    let result
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    const errors = await captureUncaught(async errs => {
      result = wc.ipcRenderer.sendSync('sync')
      await until(() => errs.length > 0)
    })
    expect(result).toEqual(NEVER_SENT)
    expect(after).not.toHaveBeenCalled()
    expect(errors).toEqual([boom])
    expect(warn).toHaveBeenCalledTimes(1)
    // the renderer still works
    ipcMain.removeAllListeners('sync')
    ipcMain.on('sync', e => {
      e.returnValue = 'ok'
    })
    expect(wc.ipcRenderer.sendSync('sync')).toBe('ok')
  })

  test('a listener error while sendSync dispatches earlier messages does not keep sendSync from its answer', async () => {
    const wc = webContents.create()
    const boom = new Error('earlier listener failed')
    ipcMain.on('earlier', () => {
      throw boom
    })
    ipcMain.on('sync', e => {
      e.returnValue = 'answered'
    })
    let result
    const errors = await captureUncaught(async errs => {
      wc.ipcRenderer.send('earlier')
      result = wc.ipcRenderer.sendSync('sync')
      await until(() => errs.length > 0)
    })
    expect(result).toBe('answered')
    expect(errors).toEqual([boom])
  })
})

describe('IpcMainEvent', () => {
  test("send: type 'frame', processId, frameId, sender, reply; no ports", async () => {
    const wc = webContents.create()
    const got = events.once(ipcMain, 'ev')
    wc.ipcRenderer.send('ev')
    const [event] = await got
    expect(event.type).toBe('frame')
    expect(event.defaultPrevented).toBe(false)
    event.preventDefault()
    expect(event.defaultPrevented).toBe(true)
    // an in-process renderer: this process, and its one frame
    expect(event.processId).toBe(process.pid)
    expect(event.frameId).toBe(1)
    expect(event.sender).toBe(wc)
    expect(webContents.getAllWebContents().map(w => w.id)).toEqual([event.sender.id])
    expect(webContents.getAllWebContents()[0]).toBe(event.sender)
    expect(typeof event.reply).toBe('function')
    expect('ports' in event).toBe(false)
  })

  test('sendSync: the same fields plus reply and returnValue', () => {
    const wc = webContents.create()
    let event
    ipcMain.on('ev', e => {
      event = e
      e.returnValue = null
    })
    wc.ipcRenderer.sendSync('ev')
    expect(event.type).toBe('frame')
    expect(event.processId).toBe(process.pid)
    expect(event.frameId).toBe(1)
    expect(event.sender).toBe(wc)
    expect(webContents.getAllWebContents().map(w => w.id)).toEqual([event.sender.id])
    expect(webContents.getAllWebContents()[0]).toBe(event.sender)
    expect(typeof event.reply).toBe('function')
    expect('returnValue' in event).toBe(true)
    expect('ports' in event).toBe(false)
  })

  test('postMessage and the default renderer: the same processId, frameId and sender', async () => {
    const got = events.once(ipcMain, 'ev')
    ipcRenderer.postMessage('ev', 1)
    const [event] = await got
    expect(event.type).toBe('frame')
    expect(event.processId).toBe(process.pid)
    expect(event.frameId).toBe(1)
    const all = webContents.getAllWebContents()
    expect(all.map(w => w.id)).toEqual([event.sender.id])
    expect(all[0]).toBe(event.sender)
    expect(webContents.fromId(event.sender.id)).toBe(event.sender)
    expect(event.ports).toEqual([])
  })

  test('each message gets its own event object', async () => {
    const seen = []
    ipcMain.on('ev', e => seen.push(e))
    ipcRenderer.send('ev')
    ipcRenderer.send('ev')
    await tick()
    expect(seen.length).toBe(2)
    expect(seen[0]).not.toBe(seen[1])
  })

  test('event.reply reaches the ipcRenderer that sent the message', async () => {
    const wc = webContents.create()
    const other = jest.fn()
    ipcRenderer.on('test-echo', other)
    ipcMain.on('test-echo', (e, arg) => e.reply('test-echo', arg))
    const got = events.once(wc.ipcRenderer, 'test-echo')
    wc.ipcRenderer.send('test-echo', 'hello')
    const [event, arg] = await got
    expect(arg).toBe('hello')
    expect(event.sender).toBe(wc.ipcRenderer)
    await tick()
    expect(other).not.toHaveBeenCalled()
  })

  test('event.reply from a sendSync listener arrives after sendSync returned', async () => {
    const wc = webContents.create()
    const got = []
    wc.ipcRenderer.on('r', (e, v) => got.push(v))
    ipcMain.on('s', e => {
      e.reply('r', 'replied')
      e.returnValue = 'returned'
    })
    expect(wc.ipcRenderer.sendSync('s')).toBe('returned')
    expect(got).toEqual([])
    await tick()
    expect(got).toEqual(['replied'])
  })

  test("after destroy: event.reply is silently ignored, event.sender.send throws 'Object has been destroyed'", async () => {
    const wc = webContents.create()
    const got = events.once(ipcMain, 'later')
    wc.ipcRenderer.send('later')
    const [event] = await got
    wc.destroy()
    expect(event.reply('x', 1)).toBeUndefined()
    let err
    try {
      event.sender.send('x', 1)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toBe('Object has been destroyed')
    expect(err.code).toBe('ERR_IPC_OBJECT_DESTROYED')
  })
})

describe('destroy()', () => {
  test("isDestroyed() becomes true and 'destroyed' is emitted once", () => {
    const wc = webContents.create()
    const destroyed = jest.fn()
    wc.on('destroyed', destroyed)
    wc.destroy()
    expect(wc.isDestroyed()).toBe(true)
    wc.destroy()
    expect(destroyed).toHaveBeenCalledTimes(1)
  })

  // Electron: a closed child window's retained ipcRenderer. Here: the ipcRenderer of a destroyed
  // WebContents.
  describe('after context is released', () => {
    test('throws an exception', async () => {
      const wc = webContents.create()
      const listener = jest.fn(e => {
        e.returnValue = 'should not happen'
      })
      ipcMain.on('x', listener)
      ipcMain.handle('x', listener)
      wc.destroy()
      for (const call of [
        () => wc.ipcRenderer.send('x', 1),
        () => wc.ipcRenderer.sendSync('x', 1),
        () => wc.ipcRenderer.postMessage('x', 1),
      ]) {
        let err
        try {
          call()
        } catch (e) {
          err = e
        }
        expect(err).toBeInstanceOf(Error)
        expect(err.message).toBe('IPC method called after context was released')
        expect(err.code).toBe('ERR_IPC_CONTEXT_RELEASED')
      }
      // invoke rejects rather than throws
      let p
      expect(() => {
        p = wc.ipcRenderer.invoke('x')
      }).not.toThrow()
      const err = await p.catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe('IPC method called after context was released')
      expect(err.code).toBe('ERR_IPC_CONTEXT_RELEASED')
      await tick()
      expect(listener).not.toHaveBeenCalled()
    })
  })

  test('messages queued to it are dropped', async () => {
    const wc = webContents.create()
    const listener = jest.fn()
    wc.ipcRenderer.on('m', listener)
    wc.send('m', 1)
    wc.send('m', 2)
    wc.destroy()
    await tick()
    await tick()
    expect(listener).not.toHaveBeenCalled()
  })

  test('a sendSync pending when its WebContents is destroyed (by an earlier message) throws', () => {
    const wc = webContents.create()
    ipcMain.on('kill', () => wc.destroy())
    ipcMain.on('s', e => {
      e.returnValue = 'never'
    })
    wc.ipcRenderer.send('kill')
    expect(() => wc.ipcRenderer.sendSync('s')).toThrow('IPC method called after context was released')
  })

  test('does not crash when reply is not sent and browser is destroyed', async () => {
    // Main gets a sendSync and, instead of setting returnValue, destroys the renderer. The
    // in-process renderer's sendSync ends with its context released; the late answers main
    // gives afterwards go nowhere, and nothing throws in main.
    const wc = webContents.create()
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    let event
    ipcMain.once('send-sync-message', (e, arg) => {
      event = { e, arg }
      e.sender.destroy()
    })
    let err
    const errors = await captureUncaught(async () => {
      err = thrownBy(() => wc.ipcRenderer.sendSync('send-sync-message', 'message'))
      event.e.returnValue = null
      event.e.reply('late', 1)
      await tick()
      await tick()
    })
    expect(errors).toEqual([])
    expect(event.arg).toBe('message')
    expect(err).toBeInstanceOf(Error)
    expect(err.message).toBe('IPC method called after context was released')
    expect(err.code).toBe('ERR_IPC_CONTEXT_RELEASED')
    expect(wc.isDestroyed()).toBe(true)
    // no "not answered" warning for a renderer that is gone
    expect(warn).not.toHaveBeenCalled()
    expect(ipc.diagnostics()).toEqual({ pendingRequests: 0, queuedMessages: 0, webContents: 0, polledConnections: 0 })
    // main still works
    const other = webContents.create()
    ipcMain.on('send-sync-message', e => {
      e.returnValue = 'still here'
    })
    expect(other.ipcRenderer.sendSync('send-sync-message', 'message')).toBe('still here')
    const got = events.once(ipcMain, 'alive')
    other.ipcRenderer.send('alive', 1)
    expect((await got)[1]).toBe(1)
  })

  test('getAllWebContents() no longer lists it; other renderers keep working', async () => {
    const a = webContents.create()
    const b = webContents.create()
    a.destroy()
    expect(webContents.getAllWebContents()).toEqual([b])
    const got = events.once(ipcMain, 'alive')
    b.ipcRenderer.send('alive', 'b')
    expect((await got)[1]).toBe('b')
  })

  test('the destroyed listener sees the WebContents already destroyed', () => {
    const wc = webContents.create()
    let state
    wc.once('destroyed', () => {
      state = [wc.isDestroyed(), webContents.fromId(wc.id)]
    })
    wc.destroy()
    expect(state).toEqual([true, undefined])
  })

  test('destroying the default renderer: its ipcRenderer throws until reset()', async () => {
    const got = events.once(ipcMain, 'who')
    ipcRenderer.send('who')
    const [event] = await got
    event.sender.destroy()
    expect(() => ipcRenderer.send('x')).toThrow('IPC method called after context was released')
    ipc.reset()
    const again = events.once(ipcMain, 'again')
    ipcRenderer.send('again', 1)
    const [event2, v] = await again
    expect(v).toBe(1)
    expect(event2.sender.id).not.toBe(event.sender.id)
  })
})

describe('reset()', () => {
  test('puts everything back', async () => {
    const wc = webContents.create()
    const destroyed = jest.fn()
    wc.on('destroyed', destroyed)
    ipcMain.on('a', () => {})
    ipcMain.handle('h', () => 'old')
    ipcRenderer.on('r', () => {})
    const got = events.once(ipcMain, 'first')
    ipcRenderer.send('first')
    const [event] = await got
    const oldDefault = event.sender

    ipc.reset()

    expect(ipcMain.eventNames()).toEqual(['error'])
    expect(ipcRenderer.eventNames()).toEqual([])
    expect(webContents.getAllWebContents()).toEqual([])
    expect(wc.isDestroyed()).toBe(true)
    expect(oldDefault.isDestroyed()).toBe(true)
    expect(destroyed).toHaveBeenCalledTimes(1)
    // the default renderer is usable again, on a new WebContents
    ipcMain.on('s', e => {
      e.returnValue = e.sender.id
    })
    const id = ipcRenderer.sendSync('s')
    expect(id).not.toBe(oldDefault.id)
    expect(webContents.getAllWebContents().map(w => w.id)).toEqual([id])
    // handlers are gone
    jest.spyOn(console, 'error').mockImplementation(() => {})
    await expect(ipcRenderer.invoke('h')).rejects.toThrow("Error invoking remote method 'h': Error: No handler registered for 'h'")
    ipcMain.handle('h', () => 'new')
    await expect(ipcRenderer.invoke('h')).resolves.toBe('new')
  })

  test('restores the no-op error listener even after removeAllListeners()', async () => {
    ipcMain.removeAllListeners()
    ipc.reset()
    expect(ipcMain.eventNames()).toEqual(['error'])
    expect(() => ipcRenderer.send('error', 'x')).not.toThrow()
    await tick()
  })

  test('messages queued to the default renderer before reset are not delivered to the new one', async () => {
    const got = events.once(ipcMain, 'who')
    ipcRenderer.send('who')
    const [event] = await got
    event.sender.send('stale', 1)
    ipc.reset()
    const stale = jest.fn()
    ipcRenderer.on('stale', stale)
    await tick()
    await tick()
    expect(stale).not.toHaveBeenCalled()
  })

  test('rejects the invokes pending at reset', async () => {
    ipcMain.handle('forever', () => new Promise(() => {}))
    const p = ipcRenderer.invoke('forever').catch(e => e)
    await tick()
    ipc.reset()
    expect((await p).code).toBe('ERR_IPC_CONTEXT_RELEASED')
  })
})
