'use strict'
// ipcMain against Electron's semantics (reference §1.1, §7.1): an EventEmitter in every respect,
// handle/handleOnce/removeHandler with Electron's exact errors, and routing that follows the
// listeners however they are added or removed.

const events = require('events')
const { EventEmitter } = events
const ipc = require('..')
const { captureUncaught, thrownBy } = require('./helpers/errors')
const { ipcMain, ipcRenderer, webContents } = ipc

// One turn of the event loop: every message queued so far has been dispatched.
const tick = () => new Promise(resolve => setImmediate(resolve))
const NEVER_SENT = { error: 'reply was never sent' }

afterEach(() => {
  jest.restoreAllMocks()
  ipc.reset()
})

/** The id of the default renderer's WebContents (creating that renderer if need be). */
async function defaultRendererId() {
  const got = events.once(ipcMain, '__id__')
  ipcRenderer.send('__id__')
  const [event] = await got
  return event.sender.id
}

/**
 * Asserts that sendSync on `channel` from `renderer` finds no listener anywhere: Electron's
 * "without listeners" warning, and the "reply was never sent" answer.
 */
function expectNoListener(renderer, id, channel) {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
  try {
    expect(renderer.sendSync(channel)).toEqual(NEVER_SENT)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(
      `WebContents #${id} called ipcRenderer.sendSync() with '${channel}' channel without listeners.`,
    )
  } finally {
    warn.mockRestore()
  }
}

/** Asserts that sendSync on `channel` reaches a listener that answers `expected`. */
function expectAnswer(renderer, channel, expected) {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
  try {
    expect(renderer.sendSync(channel)).toEqual(expected)
    expect(warn).not.toHaveBeenCalled()
  } finally {
    warn.mockRestore()
  }
}

describe('ipcMain is an EventEmitter', () => {
  test('is an instance of events.EventEmitter with all of its methods', () => {
    expect(ipcMain).toBeInstanceOf(EventEmitter)
    for (const name of [
      'on',
      'once',
      'addListener',
      'prependListener',
      'prependOnceListener',
      'off',
      'removeListener',
      'removeAllListeners',
      'listenerCount',
      'listeners',
      'rawListeners',
      'eventNames',
      'emit',
      'setMaxListeners',
      'getMaxListeners',
    ]) {
      expect(typeof ipcMain[name]).toBe('function')
    }
  })

  test('is not used for internals', () => {
    expect(ipcMain.eventNames()).toEqual(['error'])
    expect(ipcMain.listenerCount('error')).toBe(1)
  })

  test('is still not used for internals after the renderers sent, invoked and synced', async () => {
    ipcMain.handle('h', () => 1)
    ipcRenderer.send('nobody-listens', 1)
    jest.spyOn(console, 'warn').mockImplementation(() => {})
    ipcRenderer.sendSync('nobody-listens-sync')
    await ipcRenderer.invoke('h')
    await tick()
    ipcMain.removeHandler('h')
    expect(ipcMain.eventNames()).toEqual(['error'])
  })

  describe('ipcMain.removeAllListeners', () => {
    beforeEach(() => {
      ipcMain.removeAllListeners()
    })

    test('removes only the given channel', () => {
      ipcMain.on('channel1', () => {})
      ipcMain.on('channel2', () => {})
      ipcMain.removeAllListeners('channel1')
      expect(ipcMain.eventNames()).toEqual(['channel2'])
    })

    test('removes all channels if no channel is specified', () => {
      ipcMain.on('channel1', () => {})
      ipcMain.on('channel2', () => {})
      ipcMain.removeAllListeners()
      expect(ipcMain.eventNames()).toEqual([])
    })
  })

  test('eventNames() is [] after removeAllListeners() (the error listener goes too)', () => {
    ipcMain.removeAllListeners()
    expect(ipcMain.eventNames()).toEqual([])
    expect(ipcMain.listenerCount('error')).toBe(0)
  })

  test('a renderer send on channel "error" does not throw (only the no-op listener)', async () => {
    const id = await defaultRendererId()
    const listeners = ipcMain.listeners('error')
    expect(listeners.length).toBe(1)
    const [noop] = listeners
    // Watch the message reach ipcMain without adding a listener: emit() returns true only if a
    // listener (here, the no-op alone) was called.
    const emit = jest.spyOn(ipcMain, 'emit')
    const sent = new Error('from the renderer')
    const errors = await captureUncaught(async () => {
      expect(() => ipcRenderer.send('error', sent)).not.toThrow()
      await tick()
      await tick()
    })
    expect(errors).toEqual([])
    expect(emit.mock.calls.filter(([name]) => name === 'error').length).toBe(1)
    const index = emit.mock.calls.findIndex(([name]) => name === 'error')
    const [, event, arg] = emit.mock.calls[index]
    expect(event.sender.id).toBe(id)
    expect(arg).toBeInstanceOf(Error)
    expect(arg).not.toBe(sent)
    expect(arg.message).toBe('from the renderer')
    // a listener was called, and the no-op is the only one there is
    expect(emit.mock.results[index].value).toBe(true)
    expect(ipcMain.listeners('error')).toEqual([noop])
  })

  test('after removeAllListeners() removed the no-op listener, a renderer send on channel "error" is ignored', async () => {
    // Deliberately different from Electron (README): there, EventEmitter throws "Unhandled error"
    // in main; here a renderer cannot crash main.
    const id = await defaultRendererId()
    ipcMain.removeAllListeners()
    expect(ipcMain.listenerCount('error')).toBe(0)
    const got = []
    const errors = await captureUncaught(async () => {
      expect(() => ipcRenderer.send('error', new Error('from the renderer'))).not.toThrow()
      expect(() => ipcRenderer.send('error', 'a string')).not.toThrow()
      ipcMain.on('after', (event, n) => got.push([event.sender.id, n]))
      ipcRenderer.send('after', 1)
      for (let i = 0; i < 5; i++) await tick()
    })
    expect(errors).toEqual([])
    // The message sent after it still arrives.
    expect(got).toEqual([[id, 1]])
    expect(ipcMain.eventNames()).toEqual(['after'])
  })

  test('a renderer send on channel "error" reaches an ipcMain error listener', async () => {
    const got = []
    ipcMain.on('error', (event, arg) => got.push([event.sender.id, arg]))
    const id = await defaultRendererId()
    ipcRenderer.send('error', 'oops')
    await tick()
    expect(got).toEqual([[id, 'oops']])
  })

  test('on, addListener, prependListener, once and prependOnceListener receive messages in EventEmitter order', async () => {
    const calls = []
    ipcMain.on('order', (e, n) => calls.push(['on', n]))
    ipcMain.addListener('order', (e, n) => calls.push(['addListener', n]))
    ipcMain.prependListener('order', (e, n) => calls.push(['prependListener', n]))
    ipcMain.once('order', (e, n) => calls.push(['once', n]))
    ipcMain.prependOnceListener('order', (e, n) => calls.push(['prependOnceListener', n]))
    expect(ipcMain.listenerCount('order')).toBe(5)
    ipcRenderer.send('order', 1)
    ipcRenderer.send('order', 2)
    await tick()
    expect(calls).toEqual([
      ['prependOnceListener', 1],
      ['prependListener', 1],
      ['on', 1],
      ['addListener', 1],
      ['once', 1],
      ['prependListener', 2],
      ['on', 2],
      ['addListener', 2],
    ])
    expect(ipcMain.listenerCount('order')).toBe(3)
  })

  test('listeners, rawListeners, listenerCount, setMaxListeners and getMaxListeners behave as on any EventEmitter', () => {
    const a = () => {}
    const b = () => {}
    ipcMain.on('x', a)
    ipcMain.once('x', b)
    expect(ipcMain.listeners('x')).toEqual([a, b])
    const raw = ipcMain.rawListeners('x')
    expect(raw[0]).toBe(a)
    expect(raw[1]).not.toBe(b)
    expect(raw[1].listener).toBe(b)
    expect(ipcMain.listenerCount('x')).toBe(2)
    expect(ipcMain.eventNames()).toEqual(['error', 'x'])
    expect(ipcMain.setMaxListeners(1)).toBe(ipcMain)
    expect(ipcMain.getMaxListeners()).toBe(1)
    ipcMain.setMaxListeners(10)
  })

  test('every listener method returns ipcMain (chaining)', () => {
    const f = () => {}
    expect(ipcMain.on('c', f)).toBe(ipcMain)
    expect(ipcMain.addListener('c', f)).toBe(ipcMain)
    expect(ipcMain.prependListener('c', f)).toBe(ipcMain)
    expect(ipcMain.once('c', f)).toBe(ipcMain)
    expect(ipcMain.prependOnceListener('c', f)).toBe(ipcMain)
    expect(ipcMain.off('c', f)).toBe(ipcMain)
    expect(ipcMain.removeListener('c', f)).toBe(ipcMain)
    expect(ipcMain.removeAllListeners('c')).toBe(ipcMain)
    expect(ipcMain.eventNames()).toEqual(['error'])
  })

  test('off and removeListener remove one listener: the message reaches only the others', async () => {
    const calls = []
    const a = (e, n) => calls.push(['a', n])
    const b = (e, n) => calls.push(['b', n])
    const c = (e, n) => calls.push(['c', n])
    ipcMain.on('rm', a)
    ipcMain.on('rm', b)
    ipcMain.on('rm', c)
    ipcMain.off('rm', a)
    ipcMain.removeListener('rm', c)
    ipcRenderer.send('rm', 1)
    await tick()
    expect(calls).toEqual([['b', 1]])
  })

  test('emit() on ipcMain calls the listeners directly (it is a plain EventEmitter emit)', () => {
    const got = []
    ipcMain.on('local', (...args) => got.push(args))
    expect(ipcMain.emit('local', 1, 2)).toBe(true)
    expect(got).toEqual([[1, 2]])
  })

  test('events.once(ipcMain, channel) resolves with the event and the arguments of a renderer message', async () => {
    const id = await defaultRendererId()
    const got = events.once(ipcMain, 'once-channel')
    ipcRenderer.send('once-channel', 'a', { b: 1 })
    const [event, a, b] = await got
    expect(event.sender.id).toBe(id)
    expect(a).toBe('a')
    expect(b).toEqual({ b: 1 })
    // events.once cleans up after itself, the error listener it added included.
    expect(ipcMain.listenerCount('once-channel')).toBe(0)
    expect(ipcMain.eventNames()).toEqual(['error'])
    expect(ipcMain.listenerCount('error')).toBe(1)
  })

  test('events.on(ipcMain, channel) iterates over renderer messages in order', async () => {
    const iterator = events.on(ipcMain, 'stream')
    ipcRenderer.send('stream', 1)
    ipcRenderer.send('stream', 2)
    ipcRenderer.send('stream', 3)
    const got = []
    for await (const [event, n] of iterator) {
      expect(typeof event.reply).toBe('function')
      got.push(n)
      if (got.length === 3) break
    }
    expect(got).toEqual([1, 2, 3])
    expect(ipcMain.listenerCount('stream')).toBe(0)
    expect(ipcMain.eventNames()).toEqual(['error'])
  })

  test('can be replied to', async () => {
    ipcMain.on('test-echo', (e, arg) => {
      e.reply('test-echo', arg)
    })
    const got = events.once(ipcRenderer, 'test-echo')
    ipcRenderer.send('test-echo', 'hello')
    const [, arg] = await got
    expect(arg).toBe('hello')
  })
})

describe('ipcMain.handle, handleOnce and removeHandler', () => {
  test('handle and handleOnce are own properties, removeHandler is on the prototype', () => {
    expect(Object.prototype.hasOwnProperty.call(ipcMain, 'handle')).toBe(true)
    expect(Object.prototype.hasOwnProperty.call(ipcMain, 'handleOnce')).toBe(true)
    expect(Object.prototype.hasOwnProperty.call(ipcMain, 'removeHandler')).toBe(false)
    expect(typeof Object.getPrototypeOf(ipcMain).removeHandler).toBe('function')
  })

  test('handle works detached from ipcMain (it is bound)', async () => {
    const { handle } = ipcMain
    handle('detached', (e, x) => x * 2)
    await expect(ipcRenderer.invoke('detached', 21)).resolves.toBe(42)
  })

  test('handleOnce works detached from ipcMain (it is bound)', async () => {
    const { handleOnce } = ipcMain
    handleOnce('detached-once', (e, x) => x + 1)
    await expect(ipcRenderer.invoke('detached-once', 1)).resolves.toBe(2)
  })

  test('forbids multiple handlers', () => {
    ipcMain.handle('test', () => {})
    let err
    try {
      ipcMain.handle('test', () => {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(TypeError)
    expect(err.message).toBe("Attempted to register a second handler for 'test'")
    expect(err.message).toMatch(/second handler/)
    expect(err.code).toBe('ERR_IPC_SECOND_HANDLER')
  })

  test('handleOnce on a channel that already has a handler throws the second-handler error', async () => {
    ipcMain.handle('busy', () => 1)
    const err = thrownBy(() => ipcMain.handleOnce('busy', () => 2))
    expect(err).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(TypeError)
    expect(err.message).toBe("Attempted to register a second handler for 'busy'")
    expect(err.code).toBe('ERR_IPC_SECOND_HANDLER')
    // the first handler is still the one that answers
    await expect(ipcRenderer.invoke('busy')).resolves.toBe(1)
  })

  test('the second-handler check comes before the type check', () => {
    ipcMain.handle('x', () => {})
    let err
    try {
      ipcMain.handle('x', 5)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(TypeError)
    expect(err.message).toBe("Attempted to register a second handler for 'x'")
    expect(err.code).toBe('ERR_IPC_SECOND_HANDLER')
  })

  test.each([
    [5, 'number'],
    ['fn', 'string'],
    [undefined, 'undefined'],
    [null, 'object'],
    [{}, 'object'],
  ])('handle(channel, %p) throws a TypeError naming the type', (fn, type) => {
    let err
    try {
      ipcMain.handle('not-a-function', fn)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toBe(`Expected handler to be a function, but found type '${type}'`)
    expect(err.code).toBe('ERR_IPC_INVALID_HANDLER')
    // Nothing was registered: a real handler can still be added.
    expect(() => ipcMain.handle('not-a-function', () => 1)).not.toThrow()
  })

  test('handleOnce removes its handler before running it (a second concurrent invoke gets No handler)', async () => {
    let calls = 0
    ipcMain.handleOnce('once', async () => {
      calls++
      await tick()
      return 'first'
    })
    const error = jest.spyOn(console, 'error').mockImplementation(() => {})
    const [first, second] = await Promise.allSettled([ipcRenderer.invoke('once'), ipcRenderer.invoke('once')])
    expect(first).toEqual({ status: 'fulfilled', value: 'first' })
    expect(second.status).toBe('rejected')
    expect(second.reason.message).toBe("Error invoking remote method 'once': Error: No handler registered for 'once'")
    expect(calls).toBe(1)
    expect(error).toHaveBeenCalledTimes(1)
  })

  test('inside a handleOnce handler the channel is already free', async () => {
    let secondRegistration
    ipcMain.handleOnce('free', () => {
      try {
        ipcMain.handle('free', () => 'second')
        secondRegistration = 'ok'
      } catch (e) {
        secondRegistration = e.message
      }
      return 'first'
    })
    await expect(ipcRenderer.invoke('free')).resolves.toBe('first')
    expect(secondRegistration).toBe('ok')
    await expect(ipcRenderer.invoke('free')).resolves.toBe('second')
  })

  test("handleOnce does not check its handler's type: invoking fails with 'fn is not a function', as in Electron", async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => ipcMain.handleOnce('not-a-function', 42)).not.toThrow()
    const err = await ipcRenderer.invoke('not-a-function').catch(e => e)
    expect(err.message).toBe("Error invoking remote method 'not-a-function': TypeError: fn is not a function")
    expect(error).toHaveBeenCalledTimes(1)
    // it was removed before it ran
    expect(() => ipcMain.handle('not-a-function', () => 1)).not.toThrow()
  })

  test('removeHandler on an unknown channel is silent', () => {
    expect(ipcMain.removeHandler('never-registered')).toBeUndefined()
    expect(() => ipcMain.removeHandler('never-registered')).not.toThrow()
  })

  test('a channel can be handled again after removeHandler', async () => {
    ipcMain.handle('again', () => 1)
    ipcMain.removeHandler('again')
    ipcMain.handle('again', () => 2)
    await expect(ipcRenderer.invoke('again')).resolves.toBe(2)
  })

  test('a handler is not a listener: send on a handled channel reaches no on() listener and is dropped', async () => {
    const id = await defaultRendererId()
    ipcMain.handle('handled', () => 'value')
    ipcRenderer.send('handled')
    await tick()
    expectNoListener(ipcRenderer, id, 'handled')
  })

  test('listeners are not handlers: invoke on a listened channel gets No handler', async () => {
    const listener = jest.fn()
    ipcMain.on('listened', listener)
    jest.spyOn(console, 'error').mockImplementation(() => {})
    await expect(ipcRenderer.invoke('listened')).rejects.toThrow(
      "Error invoking remote method 'listened': Error: No handler registered for 'listened'",
    )
    expect(listener).not.toHaveBeenCalled()
  })
})

describe('routing follows the listeners however they are added and removed', () => {
  let id

  beforeEach(async () => {
    id = await defaultRendererId()
  })

  test('sendSync on a channel nobody ever listened to gets the no-listener answer', () => {
    expectNoListener(ipcRenderer, id, 'never')
  })

  test('on() then off(): the no-listener answer again', () => {
    const f = e => {
      e.returnValue = 'on'
    }
    ipcMain.on('c', f)
    expectAnswer(ipcRenderer, 'c', 'on')
    ipcMain.off('c', f)
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('addListener() then removeListener()', () => {
    const f = e => {
      e.returnValue = 'added'
    }
    ipcMain.addListener('c', f)
    expectAnswer(ipcRenderer, 'c', 'added')
    ipcMain.removeListener('c', f)
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('prependListener() then off()', () => {
    const f = e => {
      e.returnValue = 'prepended'
    }
    ipcMain.prependListener('c', f)
    expectAnswer(ipcRenderer, 'c', 'prepended')
    ipcMain.off('c', f)
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('the same listener added twice and removed once still routes', () => {
    let calls = 0
    const f = e => {
      calls++
      e.returnValue = calls
    }
    ipcMain.on('twice', f)
    ipcMain.on('twice', f)
    ipcMain.off('twice', f)
    expectAnswer(ipcRenderer, 'twice', 1)
    ipcMain.off('twice', f)
    expectNoListener(ipcRenderer, id, 'twice')
  })

  test('removing a listener that was never added changes nothing', () => {
    ipcMain.on('kept', e => {
      e.returnValue = 'kept'
    })
    ipcMain.off('kept', () => {})
    expectAnswer(ipcRenderer, 'kept', 'kept')
  })

  test('once(): answers the first sendSync only', () => {
    ipcMain.once('c', e => {
      e.returnValue = 'once'
    })
    expectAnswer(ipcRenderer, 'c', 'once')
    expectNoListener(ipcRenderer, id, 'c')
    expect(ipcMain.eventNames()).toEqual(['error'])
  })

  test('prependOnceListener(): answers the first sendSync only', () => {
    ipcMain.prependOnceListener('c', e => {
      e.returnValue = 'prepended once'
    })
    expectAnswer(ipcRenderer, 'c', 'prepended once')
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('a once() listener removed before it fired', () => {
    const f = e => {
      e.returnValue = 'never'
    }
    ipcMain.once('c', f)
    ipcMain.off('c', f)
    expect(ipcMain.listenerCount('c')).toBe(0)
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('once() fired by a send: a later sendSync finds no listener', async () => {
    const got = []
    ipcMain.once('c', (e, n) => got.push(n))
    ipcRenderer.send('c', 1)
    ipcRenderer.send('c', 2)
    await tick()
    expect(got).toEqual([1])
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('events.once(): after it resolved, the channel has no listener', async () => {
    const p = events.once(ipcMain, 'c')
    ipcRenderer.send('c', 'x')
    const [, x] = await p
    expect(x).toBe('x')
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('events.once() aborted: the channel has no listener', async () => {
    const controller = new AbortController()
    const p = events.once(ipcMain, 'c', { signal: controller.signal })
    controller.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
    expect(ipcMain.listenerCount('c')).toBe(0)
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('events.once() receives a sendSync but cannot answer it in time: listener present, not answered', async () => {
    // events.once resolves asynchronously, so the value cannot come back in time; the listener
    // was still there: "not answered", not "without listeners".
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    const p = events.once(ipcMain, 'c')
    expect(ipcRenderer.sendSync('c')).toEqual(NEVER_SENT)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).not.toMatch(/without listeners/)
    const [event] = await p
    expect(() => {
      event.returnValue = 'late'
    }).not.toThrow()
    warn.mockRestore()
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('events.on() closed: the channel has no listener', async () => {
    const iterator = events.on(ipcMain, 'c')
    ipcRenderer.send('c', 1)
    const { value } = await iterator.next()
    expect(value[1]).toBe(1)
    await iterator.return()
    expect(ipcMain.listenerCount('c')).toBe(0)
    expectNoListener(ipcRenderer, id, 'c')
  })

  test('removeAllListeners(channel): that channel only', () => {
    ipcMain.on('c1', e => {
      e.returnValue = 1
    })
    ipcMain.on('c1', () => {})
    ipcMain.on('c2', e => {
      e.returnValue = 2
    })
    ipcMain.removeAllListeners('c1')
    expectNoListener(ipcRenderer, id, 'c1')
    expectAnswer(ipcRenderer, 'c2', 2)
  })

  test('removeAllListeners(): no channel routes any more', () => {
    ipcMain.on('c1', e => {
      e.returnValue = 1
    })
    ipcMain.on('c2', e => {
      e.returnValue = 2
    })
    ipcMain.removeAllListeners()
    expectNoListener(ipcRenderer, id, 'c1')
    expectNoListener(ipcRenderer, id, 'c2')
  })

  test('removeAllListeners() with a removeListener listener still unroutes every channel', () => {
    const removed = []
    ipcMain.on('removeListener', name => removed.push(name))
    ipcMain.on('c1', e => {
      e.returnValue = 1
    })
    ipcMain.removeAllListeners()
    expect(removed).toContain('c1')
    expectNoListener(ipcRenderer, id, 'c1')
  })

  test('a listener that removes itself receives only the first message', async () => {
    const got = []
    const f = (e, n) => {
      got.push(n)
      ipcMain.off('self', f)
    }
    ipcMain.on('self', f)
    ipcRenderer.send('self', 1)
    ipcRenderer.send('self', 2)
    await tick()
    expect(got).toEqual([1])
    expectNoListener(ipcRenderer, id, 'self')
  })

  test('a listener added by the listener of an earlier message of the same renderer receives the later message', async () => {
    const got = []
    ipcMain.on('first', () => {
      ipcMain.on('second', (e, n) => got.push(n))
    })
    // Both are queued before any 'second' listener exists.
    ipcRenderer.send('first')
    ipcRenderer.send('second', 2)
    await tick()
    expect(got).toEqual([2])
  })

  test('a listener added by an earlier message answers a later sendSync of the same renderer', () => {
    ipcMain.on('first', () => {
      ipcMain.on('second', e => {
        e.returnValue = 'added in time'
      })
    })
    ipcRenderer.send('first')
    expectAnswer(ipcRenderer, 'second', 'added in time')
  })

  test('a listener removed by the listener of an earlier message does not receive the later message', async () => {
    const got = []
    const later = (e, n) => got.push(n)
    ipcMain.on('later', later)
    ipcMain.on('first', () => ipcMain.off('later', later))
    ipcRenderer.send('first')
    ipcRenderer.send('later', 1)
    await tick()
    expect(got).toEqual([])
  })

  test('a listener removed by an earlier message: a later sendSync finds no listener', () => {
    const later = e => {
      e.returnValue = 'should not answer'
    }
    ipcMain.on('later', later)
    ipcMain.on('first', () => ipcMain.off('later', later))
    ipcRenderer.send('first')
    expectNoListener(ipcRenderer, id, 'later')
  })

  test('a listener added by an earlier emitter of the chain receives the same message', async () => {
    const wc = webContents.create()
    const got = []
    wc.ipc.on('chain', (e, n) => {
      got.push(`ipc ${n}`)
      if (ipcMain.listenerCount('chain') === 0) ipcMain.on('chain', (e2, m) => got.push(`main ${m}`))
    })
    wc.ipcRenderer.send('chain', 1)
    wc.ipcRenderer.send('chain', 2)
    await tick()
    expect(got).toEqual(['ipc 1', 'main 1', 'ipc 2', 'main 2'])
  })

  test('listeners that come and go in the middle of a burst on one channel are followed message by message', async () => {
    const wc = webContents.create()
    const got = []
    const onMain = (e, n) => {
      got.push(`main ${n}`)
      if (n === 30) wc.ipc.on('burst', (e2, m) => got.push(`ipc ${m}`))
      if (n === 60) ipcMain.off('burst', onMain)
    }
    ipcMain.on('burst', onMain)
    const expected = []
    for (let n = 0; n < 100; n++) {
      wc.ipcRenderer.send('burst', n)
      if (n > 30) expected.push(`ipc ${n}`)
      if (n <= 60) expected.push(`main ${n}`)
    }
    await tick()
    expect(got).toEqual(expected)
  })

  test("a message on channel 'error' dispatched while its last listener is being removed is ignored", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    const wc = webContents.create()
    const r = wc.ipcRenderer
    let armed = false
    let answer
    ipcMain.on('removeListener', name => {
      if (armed && name === 'error') {
        armed = false
        answer = r.sendSync('error', 'inside removeListener')
      }
    })
    // The same sender, kind and channel, once while ipcMain listens on 'error' and once after.
    expect(r.sendSync('error', 'before')).toEqual({ error: 'reply was never sent' })
    armed = true
    const errors = await captureUncaught(async () => {
      ipcMain.removeAllListeners('error')
      await tick()
    })
    expect(errors).toEqual([])
    expect(answer).toEqual({ error: 'reply was never sent' })
    expect(warn).toHaveBeenCalled()
  })

  test('a listener added after send() but before dispatch receives the message', async () => {
    const got = []
    ipcRenderer.send('late-listener', 1)
    ipcMain.on('late-listener', (e, n) => got.push(n))
    await tick()
    expect(got).toEqual([1])
  })

  test('a handler added by an earlier message answers a later invoke of the same renderer', async () => {
    ipcMain.on('first', () => ipcMain.handle('h', () => 'handled'))
    ipcRenderer.send('first')
    await expect(ipcRenderer.invoke('h')).resolves.toBe('handled')
  })

  test('webContents.ipc listeners are tracked the same way', () => {
    const wc = webContents.create()
    const f = e => {
      e.returnValue = 'scoped'
    }
    wc.ipc.on('scoped', f)
    expectAnswer(wc.ipcRenderer, 'scoped', 'scoped')
    // another renderer does not see wc.ipc's listener
    expectNoListener(ipcRenderer, id, 'scoped')
    wc.ipc.off('scoped', f)
    expectNoListener(wc.ipcRenderer, wc.id, 'scoped')
    wc.ipc.once('scoped', e => {
      e.returnValue = 'once'
    })
    expectAnswer(wc.ipcRenderer, 'scoped', 'once')
    expectNoListener(wc.ipcRenderer, wc.id, 'scoped')
  })

  test("an 'ipc-message-sync' listener on the WebContents counts as a listener for every channel", () => {
    const wc = webContents.create()
    const f = (e, channel) => {
      e.returnValue = `event:${channel}`
    }
    wc.on('ipc-message-sync', f)
    expectAnswer(wc.ipcRenderer, 'anything', 'event:anything')
    wc.off('ipc-message-sync', f)
    expectNoListener(wc.ipcRenderer, wc.id, 'anything')
    wc.once('ipc-message-sync', f)
    expectAnswer(wc.ipcRenderer, 'other', 'event:other')
    expectNoListener(wc.ipcRenderer, wc.id, 'other')
  })

  test('WebContents.removeAllListeners() and webContents.ipc.removeAllListeners() unroute too', () => {
    const wc = webContents.create()
    wc.on('ipc-message-sync', e => {
      e.returnValue = 'event'
    })
    wc.ipc.on('scoped', e => {
      e.returnValue = 'scoped'
    })
    wc.removeAllListeners()
    expectAnswer(wc.ipcRenderer, 'scoped', 'scoped')
    expectNoListener(wc.ipcRenderer, wc.id, 'anything')
    wc.ipc.removeAllListeners()
    expect(wc.ipc.eventNames()).toEqual([])
    expectNoListener(wc.ipcRenderer, wc.id, 'scoped')
  })

  test("an 'ipc-message' listener does not count as a listener for sendSync", () => {
    const wc = webContents.create()
    const f = jest.fn()
    wc.on('ipc-message', f)
    expectNoListener(wc.ipcRenderer, wc.id, 'anything')
    expect(f).not.toHaveBeenCalled()
  })
})
