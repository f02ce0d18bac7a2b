'use strict'
// ipcRenderer.invoke / ipcMain.handle against Electron's semantics (reference §1.1, §1.4, §2.1,
// §2.2, §6, §7.3): results, Electron's exact error texts and console.error, the invoke event,
// webContents.ipc handlers, and invokes whose renderer goes away.

const events = require('events')
const ipc = require('..')
const { captureUncaught, thrownBy } = require('./helpers/errors')
const { ipcMain, ipcRenderer, webContents } = ipc

const tick = () => new Promise(resolve => setImmediate(resolve))

afterEach(() => {
  jest.restoreAllMocks()
  ipc.reset()
})

/** Silences and records console.error (main logs every handler failure). */
function spyError() {
  return jest.spyOn(console, 'error').mockImplementation(() => {})
}

/** A promise with its resolve/reject exposed. */
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** The requests main still owes an answer to. */
function pendingInCore() {
  return require('..').diagnostics().pendingRequests
}

// An in-process invoke answered while nothing waits ahead of the answer is settled without a
// reply message; otherwise the answer waits its turn behind what main sent first.
describe('the answer to an in-process invoke', () => {
  const native = require('../lib/native')

  test('with nothing queued ahead of it, goes to the promise without a reply message', async () => {
    const settled = jest.spyOn(native.binding, 'settleInvoke')
    ipcMain.handle('here', (e, n) => ({ n }))
    const wc = webContents.create()
    const got = await wc.ipcRenderer.invoke('here', 1)
    expect(got).toEqual({ n: 1 })
    expect(settled).not.toHaveBeenCalled()
    expect(pendingInCore()).toBe(0)
  })

  test('comes after the messages main sent the renderer before answering', async () => {
    const wc = webContents.create()
    const got = []
    wc.ipcRenderer.on('down', (e, n) => got.push(`down ${n}`))
    ipcMain.handle('sync', () => {
      wc.send('down', 1)
      return 'sync answer'
    })
    ipcMain.handle('async', async () => {
      await null
      wc.send('down', 2)
      return 'async answer'
    })
    got.push(await wc.ipcRenderer.invoke('sync'))
    got.push(await wc.ipcRenderer.invoke('async'))
    expect(got).toEqual(['down 1', 'sync answer', 'down 2', 'async answer'])
  })

  test('waits behind messages a throwing listener left undispatched', async () => {
    const wc = webContents.create()
    const got = []
    wc.ipcRenderer.on('down', (e, n) => {
      got.push(`down ${n}`)
      if (n === 1) throw new Error('boom')
    })
    ipcMain.handle('x', async () => {
      wc.send('down', 1)
      wc.send('down', 2)
      return 'answer'
    })
    const errors = await captureUncaught(async () => {
      got.push(await wc.ipcRenderer.invoke('x'))
      await tick()
    })
    expect(got).toEqual(['down 1', 'down 2', 'answer'])
    expect(errors.map(e => e.message)).toEqual(['boom'])
  })

  test('a large answer goes as a reply message, its memory taken over', async () => {
    const settled = jest.spyOn(native.binding, 'settleInvoke')
    const big = Buffer.alloc(2 * 1024 * 1024, 7)
    ipcMain.handle('big', () => big)
    // (Buffers lent to earlier tests may still be waiting for the collector.)
    const lentBefore = native.binding.lentPayloads()
    const got = await webContents.create().ipcRenderer.invoke('big')
    expect(got.length).toBe(big.length)
    expect(got.every(b => b === 7)).toBe(true)
    expect(settled).toHaveBeenCalledTimes(1)
    expect(native.binding.lentPayloads()).toBeLessThanOrEqual(lentBefore)
  })
})

describe('invoke', () => {
  test('receives a response from a synchronous handler', async () => {
    ipcMain.handleOnce('test', (e, arg) => {
      expect(arg).toBe(123)
      return 3
    })
    await expect(ipcRenderer.invoke('test', 123)).resolves.toBe(3)
  })

  test('receives a response from an asynchronous handler', async () => {
    ipcMain.handleOnce('test', async (e, arg) => {
      expect(arg).toBe(123)
      await new Promise(setImmediate)
      return 3
    })
    await expect(ipcRenderer.invoke('test', 123)).resolves.toBe(3)
  })

  test('resolves with undefined when the handler returns nothing', async () => {
    ipcMain.handle('nothing', () => {})
    await expect(ipcRenderer.invoke('nothing')).resolves.toBeUndefined()
  })

  test('the handler gets (event, ...args), args cloned', async () => {
    const date = new Date(5)
    let seen
    ipcMain.handle('args', (e, ...args) => {
      seen = args
      return args.length
    })
    await expect(ipcRenderer.invoke('args', 1, 'two', { three: [3] }, date)).resolves.toBe(4)
    expect(seen.slice(0, 3)).toEqual([1, 'two', { three: [3] }])
    expect(seen[3]).not.toBe(date)
    expect(seen[3].getTime()).toBe(5)
  })

  test('resolves with a structured clone of a thenable result', async () => {
    const value = { a: [1, 2], m: new Map([[1, 'x']]) }
    ipcMain.handle('thenable', () => ({ then: resolve => resolve(value) }))
    const result = await ipcRenderer.invoke('thenable')
    expect(result).not.toBe(value)
    expect(result).toEqual(value)
  })

  test("invoke returns a Promise of the caller's realm", async () => {
    ipcMain.handle('p', () => 1)
    const p = ipcRenderer.invoke('p')
    expect(p).toBeInstanceOf(Promise)
    await p
  })

  test('concurrent invokes settle with their own results, whatever order the handlers finish in', async () => {
    const gates = []
    ipcMain.handle('slow', async (e, i) => {
      const d = deferred()
      gates[i] = d
      await d.promise
      return i * 10
    })
    const all = []
    for (let i = 0; i < 5; i++) all.push(ipcRenderer.invoke('slow', i))
    await tick()
    for (let i = 4; i >= 0; i--) gates[i].resolve()
    await expect(Promise.all(all)).resolves.toEqual([0, 10, 20, 30, 40])
  })

  describe('errors', () => {
    test('throws an error if no handler is registered', async () => {
      const error = spyError()
      const err = await ipcRenderer.invoke('ch').catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe("Error invoking remote method 'ch': Error: No handler registered for 'ch'")
      expect(err.code).toBe('ERR_IPC_NO_HANDLER')
      expect(error).toHaveBeenCalledTimes(1)
      const [prefix, logged] = error.mock.calls[0]
      expect(prefix).toBe("Error occurred in handler for 'ch':")
      expect(logged).toBeInstanceOf(Error)
      expect(logged.message).toBe("No handler registered for 'ch'")
    })

    test('throws an error when invoking a handler that was removed', async () => {
      spyError()
      ipcMain.handle('test', () => {})
      ipcMain.removeHandler('test')
      await expect(ipcRenderer.invoke('test')).rejects.toThrow(/No handler registered/)
    })

    test('receives an error from a synchronous handler', async () => {
      const error = spyError()
      const thrown = new Error('some error')
      ipcMain.handleOnce('test', () => {
        throw thrown
      })
      const err = await ipcRenderer.invoke('test').catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe("Error invoking remote method 'test': Error: some error")
      expect(err).not.toBe(thrown)
      expect(error).toHaveBeenCalledTimes(1)
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'test':", thrown)
    })

    test('receives an error from an asynchronous handler', async () => {
      const error = spyError()
      const thrown = new Error('some error')
      ipcMain.handleOnce('test', async () => {
        await new Promise(setImmediate)
        throw thrown
      })
      const err = await ipcRenderer.invoke('test').catch(e => e)
      expect(err.message).toBe("Error invoking remote method 'test': Error: some error")
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'test':", thrown)
    })

    test('a handler returning a rejected promise', async () => {
      const error = spyError()
      const thrown = new Error('rejected')
      ipcMain.handle('test', () => Promise.reject(thrown))
      await expect(ipcRenderer.invoke('test')).rejects.toThrow("Error invoking remote method 'test': Error: rejected")
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'test':", thrown)
    })

    test.each([
      ['a TypeError', () => new TypeError('bad type'), 'TypeError: bad type'],
      ['a RangeError', () => new RangeError('bad range'), 'RangeError: bad range'],
      ['a string', () => 'x', 'x'],
      ['an object', () => ({}), '[object Object]'],
      ['a number', () => 42, '42'],
      ['an Error with a custom name', () => Object.assign(new Error('m'), { name: 'CustomError' }), 'CustomError: m'],
    ])('a handler throwing %s rejects with its String() text', async (_, make, text) => {
      const error = spyError()
      const thrown = make()
      ipcMain.handle('ch', () => {
        throw thrown
      })
      const err = await ipcRenderer.invoke('ch').catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe(`Error invoking remote method 'ch': ${text}`)
      expect(err.code).toBe('ERR_IPC_HANDLER_ERROR')
      expect(error).toHaveBeenCalledTimes(1)
      expect(error.mock.calls[0][0]).toBe("Error occurred in handler for 'ch':")
      expect(error.mock.calls[0][1]).toBe(thrown)
    })

    // Deliberately different from Electron (README): there, String(null) is never reached
    // (`error.toString()` throws in main) and the renderer waits until the event is collected.
    const FAILING_WITH = (value, text) => [
      [
        `a handler that throws ${text}`,
        () => {
          throw value
        },
      ],
      [`a handler that returns a promise rejected with ${text}`, () => Promise.reject(value)],
      [
        `an async handler that throws ${text} after an await`,
        async () => {
          await tick()
          throw value
        },
      ],
    ]

    test.each(FAILING_WITH(null, 'null'))(
      "%s: the renderer rejects with \"Error invoking remote method '<ch>': null\"",
      async (_, handler) => {
        const error = spyError()
        ipcMain.handle('ch', handler)
        const err = await ipcRenderer.invoke('ch').catch(e => e)
        expect(err).toBeInstanceOf(Error)
        expect(err.message).toBe("Error invoking remote method 'ch': null")
        expect(err.code).toBe('ERR_IPC_HANDLER_ERROR')
        expect(error).toHaveBeenCalledTimes(1)
        expect(error).toHaveBeenCalledWith("Error occurred in handler for 'ch':", null)
        expect(pendingInCore()).toBe(0)
      },
    )

    test.each(FAILING_WITH(undefined, 'undefined'))('%s: the renderer rejects at once, with ERR_IPC_HANDLER_ERROR', async (_, handler) => {
      const error = spyError()
      ipcMain.handle('ch', handler)
      const err = await ipcRenderer.invoke('ch').catch(e => e)
      expect(err).toBeInstanceOf(Error)
      // The same rule as for every other thrown value: the prefix, then String(error).
      expect(err.message).toBe("Error invoking remote method 'ch': undefined")
      expect(err.code).toBe('ERR_IPC_HANDLER_ERROR')
      expect(error).toHaveBeenCalledTimes(1)
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'ch':", undefined)
      expect(pendingInCore()).toBe(0)
    })

    test('the renderer gets a new plain Error: class, stack and custom properties are lost', async () => {
      spyError()
      class MyError extends Error {}
      const thrown = Object.assign(new MyError('custom'), { extra: 1 })
      ipcMain.handle('ch', () => {
        throw thrown
      })
      const err = await ipcRenderer.invoke('ch').catch(e => e)
      expect(err).not.toBeInstanceOf(MyError)
      expect(err.extra).toBeUndefined()
      expect(Object.getPrototypeOf(err)).toBe(Error.prototype)
    })

    test("a handler throwing '' resolves with undefined (Electron's quirk)", async () => {
      const error = spyError()
      ipcMain.handle('empty', () => {
        throw ''
      })
      await expect(ipcRenderer.invoke('empty')).resolves.toBeUndefined()
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'empty':", '')
    })

    test('a handler result that cannot be cloned rejects with the clone error', async () => {
      const error = spyError()
      ipcMain.handle('fn', () => ({ f() {} }))
      const err = await ipcRenderer.invoke('fn').catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe("Error invoking remote method 'fn': Error: An object could not be cloned.")
      expect(error).toHaveBeenCalledTimes(1)
      expect(error.mock.calls[0][0]).toBe("Error occurred in handler for 'fn':")
      expect(error.mock.calls[0][1].message).toBe('An object could not be cloned.')
    })

    test('an async handler result that cannot be cloned rejects with the clone error', async () => {
      spyError()
      ipcMain.handle('sym', async () => Symbol('s'))
      await expect(ipcRenderer.invoke('sym')).rejects.toThrow(
        "Error invoking remote method 'sym': Error: An object could not be cloned.",
      )
    })

    test('throws an error in the renderer if the reply callback is dropped', async () => {
      // The handler's promise never settles and nothing holds it: once the event is
      // garbage-collected the renderer gets Electron's "reply was never sent".
      require('v8').setFlagsFromString('--expose-gc')
      const gc = require('vm').runInNewContext('gc')
      ipcMain.handle('test', () => new Promise(() => {}))
      let outcome
      ipcRenderer.invoke('test').then(
        value => {
          outcome = { value }
        },
        error => {
          outcome = { error }
        },
      )
      for (let i = 0; i < 100 && outcome === undefined; i++) {
        gc()
        await tick()
      }
      expect(outcome.error).toBeInstanceOf(Error)
      expect(outcome.error.message).toBe("Error invoking remote method 'test': reply was never sent")
      expect(outcome.error.message).toMatch(/reply was never sent/)
      expect(outcome.error.code).toBe('ERR_IPC_REPLY_NEVER_SENT')
      expect(pendingInCore()).toBe(0)
    })

    test('a failed invoke leaves the handler in place', async () => {
      spyError()
      let n = 0
      ipcMain.handle('flaky', () => {
        n++
        if (n === 1) throw new Error('first')
        return n
      })
      await expect(ipcRenderer.invoke('flaky')).rejects.toThrow('first')
      await expect(ipcRenderer.invoke('flaky')).resolves.toBe(2)
    })
  })

  describe('IpcMainInvokeEvent', () => {
    test("has type 'frame', processId, frameId and sender, and no reply, returnValue or ports", async () => {
      const wc = webContents.create()
      let event
      ipcMain.handle('ev', e => {
        event = e
      })
      await wc.ipcRenderer.invoke('ev')
      expect(event.type).toBe('frame')
      // an in-process renderer: this process, and its one frame
      expect(event.processId).toBe(process.pid)
      expect(event.frameId).toBe(1)
      expect(event.sender).toBe(wc)
      expect(webContents.getAllWebContents().map(w => w.id)).toEqual([event.sender.id])
      expect(webContents.getAllWebContents()[0]).toBe(event.sender)
      expect('reply' in event).toBe(false)
      expect('returnValue' in event).toBe(false)
      expect('ports' in event).toBe(false)
    })

    test('the default renderer: sender is its WebContents', async () => {
      let event
      ipcMain.handle('who', e => {
        event = e
        return e.sender.id
      })
      const id = await ipcRenderer.invoke('who')
      expect(webContents.fromId(id)).toBe(event.sender)
      expect(webContents.getAllWebContents().map(w => w.id)).toEqual([id])
      expect(webContents.getAllWebContents()[0]).toBe(event.sender)
      expect(event.processId).toBe(process.pid)
      expect(event.frameId).toBe(1)
    })

    test('event.sender.send from a handler reaches the invoking renderer', async () => {
      const wc = webContents.create()
      ipcMain.handle('push', e => {
        e.sender.send('pushed', 'hi')
        return 'done'
      })
      const pushed = events.once(wc.ipcRenderer, 'pushed')
      await expect(wc.ipcRenderer.invoke('push')).resolves.toBe('done')
      const [, v] = await pushed
      expect(v).toBe('hi')
    })
  })

  describe('WebContents.ipc', () => {
    test('handles invoke messages sent from the WebContents', async () => {
      const wc = webContents.create()
      wc.ipc.handle('test', (e, arg) => {
        expect(e.sender).toBe(wc)
        return arg * 2
      })
      await expect(wc.ipcRenderer.invoke('test', 42)).resolves.toBe(84)
    })

    test('overrides ipcMain handlers', async () => {
      const wc = webContents.create()
      wc.ipc.handle('test', (e, arg) => arg * 2)
      ipcMain.handle('test', () => {
        throw new Error('should not be called')
      })
      await expect(wc.ipcRenderer.invoke('test', 42)).resolves.toBe(84)
    })

    test('falls back to ipcMain handlers', async () => {
      const wc = webContents.create()
      ipcMain.handle('test', (e, arg) => {
        expect(e.sender).toBe(wc)
        return arg * 2
      })
      await expect(wc.ipcRenderer.invoke('test', 42)).resolves.toBe(84)
    })

    test('falls back to ipcMain again once the webContents.ipc handler is removed', async () => {
      const wc = webContents.create()
      wc.ipc.handle('test', () => 'scoped')
      ipcMain.handle('test', () => 'global')
      await expect(wc.ipcRenderer.invoke('test')).resolves.toBe('scoped')
      wc.ipc.removeHandler('test')
      await expect(wc.ipcRenderer.invoke('test')).resolves.toBe('global')
    })

    test("a webContents.ipc handler is not used for another renderer's invoke", async () => {
      const error = spyError()
      const a = webContents.create()
      const b = webContents.create()
      a.ipc.handle('scoped', () => 'a')
      await expect(a.ipcRenderer.invoke('scoped')).resolves.toBe('a')
      await expect(b.ipcRenderer.invoke('scoped')).rejects.toThrow(
        "Error invoking remote method 'scoped': Error: No handler registered for 'scoped'",
      )
      await expect(ipcRenderer.invoke('scoped')).rejects.toThrow(/No handler registered for 'scoped'/)
      expect(error).toHaveBeenCalledTimes(2)
    })

    test('webContents.ipc.handle has the same checks as ipcMain.handle', () => {
      const wc = webContents.create()
      wc.ipc.handle('x', () => 1)
      const second = thrownBy(() => wc.ipc.handle('x', () => 2))
      expect(second).toBeInstanceOf(Error)
      expect(second).not.toBeInstanceOf(TypeError)
      expect(second.message).toBe("Attempted to register a second handler for 'x'")
      expect(second.code).toBe('ERR_IPC_SECOND_HANDLER')
      const invalid = thrownBy(() => wc.ipc.handle('y', 'nope'))
      expect(invalid).toBeInstanceOf(TypeError)
      expect(invalid.message).toBe("Expected handler to be a function, but found type 'string'")
      expect(invalid.code).toBe('ERR_IPC_INVALID_HANDLER')
      expect(() => wc.ipc.removeHandler('unknown')).not.toThrow()
    })

    test('webContents.ipc.handleOnce answers once, then falls back', async () => {
      spyError()
      const wc = webContents.create()
      wc.ipc.handleOnce('once', () => 'scoped')
      await expect(wc.ipcRenderer.invoke('once')).resolves.toBe('scoped')
      await expect(wc.ipcRenderer.invoke('once')).rejects.toThrow(/No handler registered for 'once'/)
    })
  })

  describe('when the renderer goes away', () => {
    test('invoke after the webContents was destroyed rejects with "IPC method called after context was released"', async () => {
      const handler = jest.fn()
      ipcMain.handle('late', handler)
      const wc = webContents.create()
      wc.destroy()
      let p
      expect(() => {
        p = wc.ipcRenderer.invoke('late')
      }).not.toThrow()
      const err = await p.catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe('IPC method called after context was released')
      expect(err.code).toBe('ERR_IPC_CONTEXT_RELEASED')
      await tick()
      expect(handler).not.toHaveBeenCalled()
    })

    test('an invoke pending in its handler when the webContents is destroyed rejects, and nothing is left pending', async () => {
      const gate = deferred()
      let started
      const handlerStarted = new Promise(resolve => {
        started = resolve
      })
      ipcMain.handle('slow', async () => {
        started()
        await gate.promise
        return 'too late'
      })
      const wc = webContents.create()
      const p = wc.ipcRenderer.invoke('slow')
      await handlerStarted
      expect(pendingInCore()).toBe(1)
      wc.destroy()
      const err = await p.catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.code).toBe('ERR_IPC_CONTEXT_RELEASED')
      expect(err.message).toBe('IPC method called after context was released')
      // The handler finishing afterwards changes nothing and throws nowhere.
      gate.resolve()
      await tick()
      await tick()
      expect(pendingInCore()).toBe(0)
    })

    test('an invoke not yet dispatched when the webContents is destroyed rejects too', async () => {
      ipcMain.handle('queued', () => 'value')
      const wc = webContents.create()
      const p = wc.ipcRenderer.invoke('queued')
      wc.destroy()
      const err = await p.catch(e => e)
      expect(err.code).toBe('ERR_IPC_CONTEXT_RELEASED')
      await tick()
      expect(pendingInCore()).toBe(0)
    })

    test('a handler failing after its renderer was destroyed logs but does not throw', async () => {
      const error = spyError()
      const gate = deferred()
      ipcMain.handle('fail-late', async () => {
        await gate.promise
        throw new Error('late failure')
      })
      const wc = webContents.create()
      const p = wc.ipcRenderer.invoke('fail-late').catch(e => e)
      await tick()
      wc.destroy()
      expect((await p).code).toBe('ERR_IPC_CONTEXT_RELEASED')
      gate.resolve()
      await tick()
      await tick()
      expect(error).toHaveBeenCalledWith("Error occurred in handler for 'fail-late':", expect.any(Error))
      expect(pendingInCore()).toBe(0)
    })

    test('invokes of other renderers are not affected', async () => {
      const gate = deferred()
      ipcMain.handle('wait', async () => {
        await gate.promise
        return 'ok'
      })
      const doomed = webContents.create()
      const survivor = webContents.create()
      const lost = doomed.ipcRenderer.invoke('wait').catch(e => e)
      const kept = survivor.ipcRenderer.invoke('wait')
      await tick()
      doomed.destroy()
      gate.resolve()
      await expect(kept).resolves.toBe('ok')
      expect((await lost).code).toBe('ERR_IPC_CONTEXT_RELEASED')
      expect(pendingInCore()).toBe(0)
    })

    test('nothing is left pending after ordinary invokes, failures included', async () => {
      spyError()
      ipcMain.handle('ok', () => 1)
      ipcMain.handle('bad', () => {
        throw new Error('x')
      })
      await Promise.allSettled([
        ipcRenderer.invoke('ok'),
        ipcRenderer.invoke('bad'),
        ipcRenderer.invoke('none'),
        ipcRenderer.invoke('ok', () => {}),
      ])
      expect(pendingInCore()).toBe(0)
    })
  })
})
