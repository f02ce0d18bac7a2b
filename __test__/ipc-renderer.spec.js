'use strict'
// ipcRenderer against Electron's semantics (reference §1.2, §1.5, §2, §3, §4, §7.2, §7.3):
// send/sendSync/invoke/postMessage from the default renderer and from webContents.create(),
// asynchronous FIFO delivery, sendSync and returnValue, clone errors, structured clone in both
// directions, and payloads across the size thresholds.

const crypto = require('crypto')
const events = require('events')
const net = require('net')
const util = require('util')
const { MessageChannel } = require('worker_threads')
const ipc = require('..')
const { captureUncaught, thrownBy } = require('./helpers/errors')
const { ipcMain, ipcRenderer, webContents } = ipc

const tick = () => new Promise(resolve => setImmediate(resolve))
const NEVER_SENT = { error: 'reply was never sent' }
const NOT_CLONEABLE = 'An object could not be cloned.'
const tag = v => Object.prototype.toString.call(v)

afterEach(() => {
  jest.restoreAllMocks()
  ipc.reset()
})

/** The WebContents of the default renderer (made on first use). */
async function defaultContents() {
  const got = events.once(ipcMain, '__whoami__')
  ipcRenderer.send('__whoami__')
  const [event] = await got
  return event.sender
}

// Both kinds of in-process renderer: the default one and one made by webContents.create().
const RENDERERS = [
  ['the default ipcRenderer', async () => ({ renderer: ipcRenderer, contents: await defaultContents() })],
  [
    'webContents.create().ipcRenderer',
    async () => {
      const contents = webContents.create()
      return { renderer: contents.ipcRenderer, contents }
    },
  ],
]

/** Deterministic pseudo-random numbers in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('ipcRenderer.on', () => {
  test('is not used for internals', async () => {
    expect(ipcRenderer.eventNames()).toEqual([])
    ipcMain.handle('h', () => 1)
    ipcMain.on('s', e => {
      e.returnValue = 1
    })
    ipcRenderer.send('s')
    ipcRenderer.sendSync('s')
    ipcRenderer.postMessage('s', 1)
    await ipcRenderer.invoke('h')
    await tick()
    expect(ipcRenderer.eventNames()).toEqual([])
    expect(webContents.create().ipcRenderer.eventNames()).toEqual([])
  })

  describe('ipcRenderer.removeAllListeners', () => {
    test('removes only the given channel', () => {
      ipcRenderer.on('channel1', () => {})
      ipcRenderer.on('channel2', () => {})
      ipcRenderer.removeAllListeners('channel1')
      expect(ipcRenderer.eventNames()).toEqual(['channel2'])
    })

    test('removes all channels if no channel is specified', () => {
      ipcRenderer.on('channel1', () => {})
      ipcRenderer.on('channel2', () => {})
      ipcRenderer.removeAllListeners()
      expect(ipcRenderer.eventNames()).toEqual([])
    })
  })

  test('the methods live on the prototype, as since Electron 29', () => {
    for (const name of ['send', 'sendSync', 'invoke', 'postMessage']) {
      expect(Object.prototype.hasOwnProperty.call(ipcRenderer, name)).toBe(false)
      expect(typeof ipcRenderer[name]).toBe('function')
    }
    expect(ipcRenderer).toBeInstanceOf(events.EventEmitter)
  })

  test.each(RENDERERS)('listeners of %s get (event, ...args) with event = { sender: ipcRenderer, ports: [] }', async (_, make) => {
    const { renderer, contents } = await make()
    const got = events.once(renderer, 'to-renderer')
    contents.send('to-renderer', 1, 'two', { three: 3 })
    const [event, ...args] = await got
    expect(event.sender).toBe(renderer)
    expect(event.ports).toEqual([])
    expect(Object.keys(event).sort()).toEqual(['ports', 'sender'])
    expect(args).toEqual([1, 'two', { three: 3 }])
  })

  test('event.sender.send in a renderer listener goes back to main', async () => {
    const contents = await defaultContents()
    ipcRenderer.on('ping', (event, n) => event.sender.send('pong', n + 1))
    const got = events.once(ipcMain, 'pong')
    contents.send('ping', 1)
    const [event, n] = await got
    expect(n).toBe(2)
    expect(event.sender).toBe(contents)
  })
})

describe.each(RENDERERS)('sending from %s', (_, make) => {
  let renderer
  let contents

  beforeEach(async () => {
    ;({ renderer, contents } = await make())
  })

  test('send delivers (event, ...args) to ipcMain with event.sender the WebContents', async () => {
    const got = events.once(ipcMain, 'message')
    renderer.send('message', 'Hello World!', 42)
    const [event, ...args] = await got
    expect(event.sender).toBe(contents)
    expect(args).toEqual(['Hello World!', 42])
  })

  test('should work when sending an object containing id property', async () => {
    const obj = { id: 1, name: 'ly' }
    const got = events.once(ipcMain, 'message')
    renderer.send('message', obj)
    const [, received] = await got
    expect(received).toEqual(obj)
  })

  test('send never runs a listener inside the call', async () => {
    let ran = false
    ipcMain.on('async', () => {
      ran = true
    })
    renderer.send('async')
    expect(ran).toBe(false)
    await tick()
    expect(ran).toBe(true)
  })

  test('postMessage never runs a listener inside the call', async () => {
    let ran = false
    ipcMain.on('post', () => {
      ran = true
    })
    renderer.postMessage('post', 1)
    expect(ran).toBe(false)
    await tick()
    expect(ran).toBe(true)
  })

  test('invoke never runs the handler inside the call', async () => {
    let ran = false
    ipcMain.handle('inv', () => {
      ran = true
      return 1
    })
    const p = renderer.invoke('inv')
    expect(ran).toBe(false)
    await expect(p).resolves.toBe(1)
    expect(ran).toBe(true)
  })

  test('send to a channel without listeners is dropped silently', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    const error = jest.spyOn(console, 'error').mockImplementation(() => {})
    renderer.send('nobody', 1)
    renderer.postMessage('nobody', 1)
    await tick()
    expect(warn).not.toHaveBeenCalled()
    expect(error).not.toHaveBeenCalled()
  })

  describe('sendSync()', () => {
    test('can be replied to by setting event.returnValue', () => {
      ipcMain.on('echo', (event, msg) => {
        event.returnValue = msg
      })
      expect(renderer.sendSync('echo', 'test')).toBe('test')
    })

    test('the listener gets (event, ...args) with event.sender the WebContents', () => {
      let seen
      ipcMain.on('sync', (event, ...args) => {
        seen = { sender: event.sender, args }
        event.returnValue = null
      })
      expect(renderer.sendSync('sync', 1, [2], { three: 3 })).toBeNull()
      expect(seen.sender).toBe(contents)
      expect(seen.args).toEqual([1, [2], { three: 3 }])
    })

    test('delivers the earlier sends of the same renderer first', () => {
      const got = []
      ipcMain.on('a', (e, n) => got.push(n))
      ipcMain.on('s', e => {
        e.returnValue = [...got]
      })
      renderer.send('a', 1)
      renderer.postMessage('a', 2)
      renderer.send('a', 3)
      expect(renderer.sendSync('s')).toEqual([1, 2, 3])
    })

    test('does not deliver main-to-renderer messages while it waits', async () => {
      const got = []
      renderer.on('to-renderer', (e, n) => got.push(n))
      contents.send('to-renderer', 'before')
      ipcMain.on('s', e => {
        e.sender.send('to-renderer', 'during')
        e.returnValue = 'done'
      })
      expect(renderer.sendSync('s')).toBe('done')
      expect(got).toEqual([])
      await tick()
      expect(got).toEqual(['before', 'during'])
    })

    test('first assignment of returnValue wins (two listeners, no throw)', () => {
      const errors = []
      ipcMain.on('twice', e => {
        e.returnValue = 'first'
      })
      ipcMain.on('twice', e => {
        try {
          e.returnValue = 'second'
        } catch (err) {
          errors.push(err)
        }
      })
      expect(renderer.sendSync('twice')).toBe('first')
      expect(errors).toEqual([])
    })

    test('does not crash when reply is sent by multiple listeners', () => {
      ipcMain.on('null-twice', e => {
        e.returnValue = null
      })
      ipcMain.on('null-twice', e => {
        e.returnValue = null
      })
      expect(renderer.sendSync('null-twice')).toBeNull()
    })

    test('event.returnValue = undefined returns undefined (an answer, no warning)', () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
      ipcMain.on('undef', e => {
        e.returnValue = undefined
      })
      expect(renderer.sendSync('undef')).toBeUndefined()
      expect(warn).not.toHaveBeenCalled()
    })

    test('reading event.returnValue gives undefined, before and after it is set', () => {
      const reads = []
      ipcMain.on('read', e => {
        reads.push(e.returnValue)
        e.returnValue = 'set'
        reads.push(e.returnValue)
      })
      expect(renderer.sendSync('read')).toBe('set')
      expect(reads).toEqual([undefined, undefined])
    })

    test('the returned value is a structured clone of returnValue', () => {
      const value = { when: new Date(0), list: [1, 2] }
      ipcMain.on('clone', e => {
        e.returnValue = value
      })
      const got = renderer.sendSync('clone')
      expect(got).not.toBe(value)
      expect(got).toEqual(value)
      expect(tag(got.when)).toBe('[object Date]')
      expect(got.when.getTime()).toBe(0)
    })

    test('with no listener anywhere: { error: "reply was never sent" } and the Electron warning', () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
      const result = renderer.sendSync('no-listener', 1)
      expect(result).toStrictEqual(NEVER_SENT)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn).toHaveBeenCalledWith(
        `WebContents #${contents.id} called ipcRenderer.sendSync() with 'no-listener' channel without listeners.`,
      )
      // a fresh object each time: mutating one answer does not change the next
      result.error = 'changed'
      expect(renderer.sendSync('no-listener')).toStrictEqual(NEVER_SENT)
    })

    test('a listener that does not set returnValue synchronously: the same answer, and a warning that explains why', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
      let event
      ipcMain.on('late', e => {
        event = e
      })
      expect(renderer.sendSync('late')).toStrictEqual(NEVER_SENT)
      expect(warn).toHaveBeenCalledTimes(1)
      const [message] = warn.mock.calls[0]
      expect(message).toContain(`WebContents #${contents.id}`)
      expect(message).toContain("'late'")
      expect(message).not.toContain('without listeners')
      expect(message).toMatch(/in-process renderer cannot wait/)
      // A later assignment is harmless.
      await tick()
      expect(() => {
        event.returnValue = 'too late'
      }).not.toThrow()
      // and does not leak into the next sendSync on that channel
      ipcMain.removeAllListeners('late')
      ipcMain.on('late', e => {
        e.returnValue = 'fresh'
      })
      expect(renderer.sendSync('late')).toBe('fresh')
    })

    test('a returnValue that cannot be cloned throws inside the listener; a later valid one still answers', () => {
      let caught
      ipcMain.on('bad-return', e => {
        try {
          e.returnValue = () => {}
        } catch (err) {
          caught = err
        }
        e.returnValue = 'valid'
      })
      expect(renderer.sendSync('bad-return')).toBe('valid')
      expect(caught).toBeInstanceOf(Error)
      expect(caught.message).toBe(NOT_CLONEABLE)
    })
  })

  describe('values that cannot be cloned', () => {
    const BAD = [
      ['a function', () => () => {}],
      ['a Symbol', () => Symbol('s')],
      ['a Promise', () => Promise.resolve(1)],
      ['a WeakMap', () => new WeakMap()],
      ['a function nested in an object', () => ({ ok: 1, nested: { fn() {} } })],
    ]

    test.each(BAD)('%s: send, sendSync and postMessage throw synchronously and nothing is delivered', async (_, bad) => {
      const listener = jest.fn(e => {
        e.returnValue = 'should not happen'
      })
      ipcMain.on('bad', listener)
      contents.on('ipc-message', listener)
      for (const call of [
        () => renderer.send('bad', 'fine', bad(), 'also fine'),
        () => renderer.sendSync('bad', 'fine', bad()),
        () => renderer.postMessage('bad', bad()),
      ]) {
        let err
        try {
          call()
        } catch (e) {
          err = e
        }
        expect(err).toBeInstanceOf(Error)
        expect(err.message).toBe(NOT_CLONEABLE)
      }
      await tick()
      expect(listener).not.toHaveBeenCalled()
    })

    test.each(BAD)('%s: invoke rejects with the clone error and the handler is not called', async (_, bad) => {
      const handler = jest.fn(() => 1)
      ipcMain.handle('bad', handler)
      let p
      expect(() => {
        p = renderer.invoke('bad', 1, bad())
      }).not.toThrow()
      const err = await p.catch(e => e)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe(NOT_CLONEABLE)
      await tick()
      expect(handler).not.toHaveBeenCalled()
    })

    test('does not crash when sending external objects', async () => {
      // Electron's spec: a V8 External (a socket handle's _externalStream) throws, as every
      // host object does, instead of crashing or being sent as something else.
      const server = net.createServer()
      await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
      try {
        const external = server._handle._externalStream
        expect(util.types.isExternal(external)).toBe(true)
        const listener = jest.fn()
        ipcMain.on('external', listener)
        expect(() => renderer.send('external', external)).toThrow(NOT_CLONEABLE)
        expect(() => renderer.send('external', { nested: external })).toThrow(NOT_CLONEABLE)
        await expect(renderer.invoke('external', external)).rejects.toThrow(NOT_CLONEABLE)
        await tick()
        expect(listener).not.toHaveBeenCalled()
      } finally {
        await new Promise(resolve => server.close(resolve))
      }
    })

    test('a Node object backed by C++ (process.env) throws', () => {
      expect(() => renderer.send('host', process.env)).toThrow(NOT_CLONEABLE)
    })

    test('the renderer stays usable after a clone error', async () => {
      expect(() => renderer.send('c', Symbol('x'))).toThrow(NOT_CLONEABLE)
      const got = events.once(ipcMain, 'c')
      renderer.send('c', 'ok')
      const [, v] = await got
      expect(v).toBe('ok')
    })
  })

  describe('a channel that is not a string', () => {
    // gin's conversion error; index 0 is Electron's hidden `internal` flag.
    const CHANNELS = [
      [1, 'Error processing argument at index 1, conversion failure from 1'],
      [undefined, 'Error processing argument at index 1, conversion failure from undefined'],
      [null, 'Error processing argument at index 1, conversion failure from null'],
      [{}, 'Error processing argument at index 1, conversion failure from [object Object]'],
      [Symbol('ch'), 'Error processing argument at index 1, conversion failure from Symbol(ch)'],
    ]

    test.each(CHANNELS)('%p: send, sendSync, postMessage throw a TypeError', async (channel, message) => {
      const listener = jest.fn()
      contents.on('ipc-message', listener)
      contents.on('ipc-message-sync', listener)
      for (const call of [
        () => renderer.send(channel, 1),
        () => renderer.sendSync(channel, 1),
        () => renderer.postMessage(channel, 1),
      ]) {
        let err
        try {
          call()
        } catch (e) {
          err = e
        }
        expect(err).toBeInstanceOf(TypeError)
        expect(err.code).toBe('ERR_IPC_INVALID_CHANNEL')
        expect(err.message).toBe(message)
      }
      await tick()
      expect(listener).not.toHaveBeenCalled()
    })

    test.each(CHANNELS)('%p: invoke rejects with a TypeError', async (channel, message) => {
      let p
      expect(() => {
        p = renderer.invoke(channel, 1)
      }).not.toThrow()
      const err = await p.catch(e => e)
      expect(err).toBeInstanceOf(TypeError)
      expect(err.code).toBe('ERR_IPC_INVALID_CHANNEL')
      expect(err.message).toBe(message)
    })
  })

  describe('postMessage', () => {
    test('delivers like send, with event.ports = [] and no event.reply', async () => {
      const got = events.once(ipcMain, 'post')
      renderer.postMessage('post', { some: 'message' })
      const [event, message, ...rest] = await got
      expect(message).toEqual({ some: 'message' })
      expect(rest).toEqual([])
      expect(event.ports).toEqual([])
      expect(event.reply).toBeUndefined()
      expect(event.sender).toBe(contents)
      expect(event.type).toBe('frame')
    })

    test("does not emit 'ipc-message' on the WebContents, but reaches webContents.ipc", async () => {
      const ipcMessage = jest.fn()
      contents.on('ipc-message', ipcMessage)
      const scoped = events.once(contents.ipc, 'post')
      const main = events.once(ipcMain, 'post')
      renderer.postMessage('post', 42)
      const [[scopedEvent, a], [mainEvent, b]] = await Promise.all([scoped, main])
      expect([a, b]).toEqual([42, 42])
      expect(scopedEvent).toBe(mainEvent)
      await tick()
      expect(ipcMessage).not.toHaveBeenCalled()
    })

    test('can sent a message without a transfer', async () => {
      // No transfer list, an explicit undefined, and an empty one are all "without a transfer".
      const got = []
      ipcMain.on('post', (e, m) => got.push([m, e.ports]))
      expect(renderer.postMessage('post', 'a')).toBeUndefined()
      expect(renderer.postMessage('post', 'b', undefined)).toBeUndefined()
      expect(renderer.postMessage('post', 'c', [])).toBeUndefined()
      await tick()
      expect(got).toEqual([
        ['a', []],
        ['b', []],
        ['c', []],
      ])
    })

    /**
     * Runs `attempts` (each expected to throw), then posts 'after'; resolves with every message
     * main received on 'post' by the time 'after' arrived (messages of one renderer are FIFO).
     */
    async function receivedAround(attempts) {
      const got = []
      ipcMain.on('post', (e, m) => got.push(m))
      contents.ipc.on('post', (e, m) => got.push(['webContents.ipc', m]))
      const errors = attempts.map(thrownBy)
      const after = events.once(ipcMain, 'after')
      renderer.postMessage('after', 'after')
      await after
      return { errors, got }
    }

    test('throws when the transferable is invalid', async () => {
      const { port1, port2 } = new MessageChannel()
      try {
        const INVALID = [
          [new ArrayBuffer(1)],
          [123],
          [null],
          null,
          'not an array',
          {},
          { length: 0 },
          new ArrayBuffer(1),
          // a MessagePort does not make the rest of the list valid
          [port1, new ArrayBuffer(1)],
          [123, port1],
        ]
        const { errors, got } = await receivedAround(INVALID.map(transfer => () => renderer.postMessage('post', 'x', transfer)))
        for (const err of errors) {
          expect(err).toBeInstanceOf(TypeError)
          expect(err.message).toBe('Invalid value for transfer')
          expect(err.code).toBe('ERR_IPC_INVALID_TRANSFER')
        }
        // nothing was delivered, to webContents.ipc or to ipcMain
        expect(got).toEqual([])
      } finally {
        port1.close()
        port2.close()
      }
    })

    test('a MessagePort in the transfer list throws ERR_IPC_UNSUPPORTED, and nothing is delivered', async () => {
      // Deliberately different from Electron (README): ports cannot be transferred here.
      const a = new MessageChannel()
      const b = new MessageChannel()
      try {
        const LISTS = [[a.port1], [a.port2], [a.port1, b.port1]]
        const { errors, got } = await receivedAround(LISTS.map(transfer => () => renderer.postMessage('post', 'x', transfer)))
        for (const err of errors) {
          expect(err).toBeInstanceOf(Error)
          expect(err.message).toBe('Transferring MessagePorts is not supported by ipc-main')
          expect(err.code).toBe('ERR_IPC_UNSUPPORTED')
        }
        expect(got).toEqual([])
      } finally {
        for (const port of [a.port1, a.port2, b.port1, b.port2]) port.close()
      }
    })
  })
})

describe('under jest fake timers', () => {
  afterEach(() => {
    jest.useRealTimers()
  })

  test.each(['modern', 'legacy'])('%s fake timers: send, sendSync, invoke and replies still arrive', async legacy => {
    jest.useFakeTimers({ legacyFakeTimers: legacy === 'legacy' })
    ipcMain.handle('inv', (e, x) => x + 1)
    ipcMain.on('sync', e => {
      e.returnValue = 'sync'
    })
    ipcMain.on('ping', e => e.reply('pong', 'pong'))
    expect(ipcRenderer.sendSync('sync')).toBe('sync')
    await expect(ipcRenderer.invoke('inv', 1)).resolves.toBe(2)
    const pong = events.once(ipcRenderer, 'pong')
    ipcRenderer.send('ping')
    const [, v] = await pong
    expect(v).toBe('pong')
  })
})

describe('ordering', () => {
  async function runOrdering(renderer, kinds, seed) {
    const received = []
    const returned = []
    ipcMain.on('test-async', (e, i) => received.push(i))
    ipcMain.on('test-post', (e, i) => received.push(i))
    ipcMain.on('test-sync', (e, i) => {
      received.push(i)
      e.returnValue = i
    })
    ipcMain.handle('test-invoke', (e, i) => {
      received.push(i)
      return i
    })
    const random = mulberry32(seed)
    const invokes = []
    const expected = []
    for (let i = 0; i < 1000; i++) {
      expected.push(i)
      const kind = kinds[Math.floor(random() * kinds.length)]
      if (kind === 'send') renderer.send('test-async', i)
      else if (kind === 'postMessage') renderer.postMessage('test-post', i)
      else if (kind === 'invoke') invokes.push(renderer.invoke('test-invoke', i).then(v => [i, v]))
      else returned.push([i, renderer.sendSync('test-sync', i)])
    }
    const done = events.once(ipcMain, 'done')
    renderer.send('done')
    await done
    for (const [i, v] of await Promise.all(invokes)) expect(v).toBe(i)
    for (const [i, v] of returned) expect(v).toBe(i)
    expect(received).toEqual(expected)
  }

  test('between send and sendSync is consistent', async () => {
    await runOrdering(ipcRenderer, ['send', 'sendSync'], 1)
  })

  test('between send, sendSync, and invoke is consistent', async () => {
    await runOrdering(ipcRenderer, ['send', 'sendSync', 'invoke'], 2)
  })

  test('between send, sendSync, invoke and postMessage is consistent (default renderer)', async () => {
    await runOrdering(ipcRenderer, ['send', 'sendSync', 'invoke', 'postMessage'], 3)
  })

  test('between send, sendSync, invoke and postMessage is consistent (webContents.create())', async () => {
    await runOrdering(webContents.create().ipcRenderer, ['send', 'sendSync', 'invoke', 'postMessage'], 4)
  })

  test('two renderers interleaved: each one in its own order', async () => {
    const a = webContents.create()
    const b = webContents.create()
    const got = new Map([
      [a.id, []],
      [b.id, []],
    ])
    ipcMain.on('m', (e, i) => got.get(e.sender.id).push(i))
    ipcMain.on('s', (e, i) => {
      got.get(e.sender.id).push(i)
      e.returnValue = i
    })
    ipcMain.handle('i', (e, i) => {
      got.get(e.sender.id).push(i)
      return i
    })
    const random = mulberry32(5)
    const pending = []
    for (let i = 0; i < 1000; i++) {
      const r = random() < 0.5 ? a.ipcRenderer : b.ipcRenderer
      const k = random()
      if (k < 0.4) r.send('m', i)
      else if (k < 0.7) pending.push(r.invoke('i', i))
      else r.sendSync('s', i)
    }
    await Promise.all(pending)
    await tick()
    const all = [...got.get(a.id), ...got.get(b.id)]
    expect(all.length).toBe(1000)
    for (const list of got.values()) expect(list).toEqual([...list].sort((x, y) => x - y))
  })

  // In-process sends wait in the thread's outbox until its next call into the core.
  describe('through the outbox of in-process sends', () => {
    test('a burst many times the outbox, with payloads of every size, arrives whole and in order', async () => {
      const a = webContents.create()
      const b = webContents.create()
      const got = []
      ipcMain.on('m', (e, i, text) => got.push([e.sender.id, i, text.length]))
      ipcMain.on('p', (e, [i, text]) => got.push([e.sender.id, i, text.length]))
      const random = mulberry32(11)
      const expected = []
      for (let i = 0; i < 20000; i++) {
        const wc = random() < 0.5 ? a : b
        // mostly tiny, some around and past the size that is sent on its own (4 KiB)
        const size = random() < 0.05 ? Math.floor(random() * 9000) : Math.floor(random() * 40)
        const text = 'x'.repeat(size)
        if (random() < 0.2) wc.ipcRenderer.postMessage('p', [i, text])
        else wc.ipcRenderer.send('m', i, text)
        expected.push([wc.id, i, size])
      }
      const done = events.once(ipcMain, 'done')
      a.ipcRenderer.send('done')
      await done
      expect(got).toEqual(expected)
    })

    test('the sends of one turn reach the core in one native call, straight into the batch', async () => {
      const { binding } = require('../lib/native')
      const direct = jest.spyOn(binding, 'nextStaged')
      const staged = jest.spyOn(binding, 'sendStaged')
      const single = jest.spyOn(binding, 'send')
      let seen = 0
      ipcMain.on('m', () => seen++)
      for (let i = 0; i < 1000; i++) ipcRenderer.send('m', i)
      expect(direct).not.toHaveBeenCalled()
      await tick()
      expect(seen).toBe(1000)
      expect(direct).toHaveBeenCalledTimes(1)
      expect(staged).not.toHaveBeenCalled()
      expect(single).not.toHaveBeenCalled()
    })

    test('a burst of many outboxes waits in JS and is handed over one outbox per call, in order', async () => {
      const { binding } = require('../lib/native')
      const direct = jest.spyOn(binding, 'nextStaged')
      const staged = jest.spyOn(binding, 'sendStaged')
      const got = []
      ipcMain.on('m', (e, i, text) => got.push(i + text.length))
      const text = 'y'.repeat(30)
      for (let i = 0; i < 30000; i++) ipcRenderer.send('m', i, text)
      expect(direct).not.toHaveBeenCalled()
      expect(staged).not.toHaveBeenCalled()
      for (let t = 0; t < 100 && got.length < 30000; t++) await tick()
      expect(got).toEqual(Array.from({ length: 30000 }, (_, i) => i + 30))
      // ~60 bytes an entry: 64 KiB outboxes hold about a thousand each.
      expect(direct.mock.calls.length).toBeGreaterThanOrEqual(20)
      expect(staged).not.toHaveBeenCalled()
    })

    test('an outbox with nothing for this thread does not end the drain while more are staged', async () => {
      const native = require('../lib/native')
      const got = []
      ipcMain.on('m', (e, i) => got.push(i))
      for (let i = 0; i < 30000; i++) ipcRenderer.send('m', i)
      // As if the first outbox's messages had all gone elsewhere: the core reads nothing.
      const direct = jest.spyOn(native.binding, 'nextStaged').mockImplementationOnce(() => native.NONE)
      for (let t = 0; t < 100 && got.length < 30000; t++) await tick()
      expect(direct.mock.calls.length).toBeGreaterThan(2)
      expect(got.length).toBeGreaterThan(25000)
      expect(got[0]).toBeGreaterThan(0)
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + got[0]))
      expect(got[got.length - 1]).toBe(29999)
    })

    test('staged outboxes wait their turn behind what is already queued in the core', async () => {
      const { binding } = require('../lib/native')
      const single = jest.spyOn(binding, 'send')
      const got = []
      ipcMain.on('m', (e, i, text) => got.push([i, text.length]))
      const other = webContents.create()
      // On their own into the mailbox (past the 4 KiB staged at most), then bursts staged behind.
      ipcRenderer.send('m', -1, 'x'.repeat(5000))
      other.ipcRenderer.send('m', -2, 'x'.repeat(6000))
      for (let i = 0; i < 5000; i++) ipcRenderer.send('m', i, '')
      ipcRenderer.send('m', 5000, 'x'.repeat(7000))
      for (let i = 5001; i < 10000; i++) ipcRenderer.send('m', i, '')
      expect(single).toHaveBeenCalledTimes(3)
      for (let t = 0; t < 100 && got.length < 10002; t++) await tick()
      const mine = got.filter(([i]) => i !== -2)
      expect(mine).toEqual([[-1, 5000], ...Array.from({ length: 10000 }, (_, i) => [i, i === 5000 ? 7000 : 0])])
      expect(got.findIndex(([i]) => i === -2)).toBe(1)
    })

    test('a renderer destroyed with several outboxes staged: as with one, none of them is dispatched, none left behind', async () => {
      const wc = webContents.create()
      let seen = 0
      ipcMain.on('m', () => seen++)
      for (let i = 0; i < 5000; i++) wc.ipcRenderer.send('m', i)
      wc.destroy()
      await tick()
      await tick()
      const staged = seen
      const wc2 = webContents.create()
      seen = 0
      wc2.ipcRenderer.send('m', 0)
      await tick()
      expect(seen).toBe(1)
      expect({ staged, queued: ipc.diagnostics().queuedMessages }).toEqual({ staged: 0, queued: 0 })
    })

    test('what main sends the renderer in between keeps its place', async () => {
      const wc = webContents.create()
      const got = []
      ipcMain.on('up', (e, i) => got.push(`up ${i}`))
      wc.ipcRenderer.on('down', (e, i) => got.push(`down ${i}`))
      wc.ipcRenderer.send('up', 1)
      wc.send('down', 2)
      wc.ipcRenderer.send('up', 3)
      await tick()
      expect(got).toEqual(['up 1', 'down 2', 'up 3'])
    })

    test('a sendSync keeps the order of a batch in which listeners threw more than once', async () => {
      const got = []
      const errors = await captureUncaught(async () => {
        ipcMain.on('m', (e, i) => {
          got.push(i)
          if (i === 0 || i === 1) throw new Error('boom')
        })
        ipcMain.on('s', e => {
          got.push('sync')
          e.returnValue = 1
        })
        for (let i = 0; i < 6; i++) ipcRenderer.send('m', i)
        // After the drain's promise job: the first throw left 1..5 in the batch.
        queueMicrotask(() => {
          ipcRenderer.send('m', 'after')
          ipcRenderer.sendSync('s')
        })
        for (let t = 0; t < 5; t++) await tick()
      })
      expect(errors.map(e => e.message)).toEqual(['boom', 'boom'])
      expect(got).toEqual([0, 1, 2, 3, 4, 5, 'after', 'sync'])
    })

    test('sends from inside a sendSync listener come after it, before later sends', async () => {
      const got = []
      ipcMain.on('m', (e, i) => got.push(i))
      ipcMain.on('s', e => {
        got.push('s')
        ipcRenderer.send('m', 2)
        e.returnValue = 'ok'
      })
      ipcRenderer.send('m', 1)
      expect(ipcRenderer.sendSync('s')).toBe('ok')
      ipcRenderer.send('m', 3)
      expect(got).toEqual([1, 's'])
      await tick()
      expect(got).toEqual([1, 's', 2, 3])
    })

    test('what the listeners of the last queued message send is delivered too, hop after hop', async () => {
      const wc = webContents.create()
      const hops = []
      ipcMain.on('up', (e, n) => {
        hops.push(`up ${n}`)
        if (n < 50) e.reply('down', n + 1)
      })
      wc.ipcRenderer.on('down', (e, n) => {
        hops.push(`down ${n}`)
        wc.ipcRenderer.send('up', n + 1)
      })
      ipcMain.handle('last', () => 'answered')
      const done = new Promise(resolve => ipcMain.once('up', (e, n) => n === 0 && resolve()))
      wc.ipcRenderer.send('up', 0)
      await done
      while (hops.length < 51) await tick()
      expect(hops[50]).toBe('up 50')
      expect(hops.filter(h => h.startsWith('down')).length).toBe(25)
      await expect(wc.ipcRenderer.invoke('last')).resolves.toBe('answered')
    })

    test('diagnostics() counts staged sends as queued', async () => {
      ipcMain.on('m', () => {})
      ipcRenderer.send('m', 1)
      ipcRenderer.send('m', 2)
      expect(ipc.diagnostics().queuedMessages).toBe(2)
      await tick()
      expect(ipc.diagnostics().queuedMessages).toBe(0)
    })
  })

  test('main-to-renderer sends arrive in order, never inside the call', async () => {
    const contents = await defaultContents()
    const got = []
    ipcRenderer.on('seq', (e, i) => got.push(i))
    ipcRenderer.on('other', (e, i) => got.push(i))
    const expected = []
    for (let i = 0; i < 1000; i++) {
      contents.send(i % 3 === 0 ? 'other' : 'seq', i)
      expected.push(i)
    }
    expect(got).toEqual([])
    const done = events.once(ipcRenderer, 'done')
    contents.send('done')
    await done
    expect(got).toEqual(expected)
  })
})

describe('structured clone', () => {
  class Point {
    constructor() {
      this.x = 1
      this.y = 2
    }

    norm() {
      return Math.hypot(this.x, this.y)
    }
  }

  function sample() {
    const shared = { shared: true }
    const withHidden = { visible: 1 }
    Object.defineProperty(withHidden, 'hidden', { value: 2, enumerable: false })
    withHidden[Symbol('sym')] = 3
    return {
      date: new Date('2020-01-02T03:04:05.678Z'),
      buffer: Buffer.from('hello'),
      map: new Map([
        ['a', 1],
        [2, { b: 'c' }],
      ]),
      set: new Set([1, 'two', 3n]),
      regexp: /ab+c/gi,
      bigint: 12345678901234567890n,
      undef: undefined,
      nan: NaN,
      negZero: -0,
      inf: -Infinity,
      f64: new Float64Array([1.5, -2.25]),
      i16: new Int16Array([-1, 2, 3]),
      u8c: new Uint8ClampedArray([0, 255]),
      big64: new BigInt64Array([-5n]),
      dataView: new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2),
      arrayBuffer: new Uint8Array([9, 8, 7]).buffer,
      sparse: [1, , 3], // eslint-disable-line no-sparse-arrays
      arrayWithUndefined: [undefined, null],
      nested: { deep: { deeper: [shared, shared] } },
      boxed: new String('boxed'), // eslint-disable-line no-new-wrappers
      rangeError: new RangeError('out of range'),
      instance: new Point(),
      withHidden,
      unicode: 'é€😀\ud800',
    }
  }

  /** Checks a received sample without relying on the realm its objects were made in. */
  function checkSample(v) {
    expect(tag(v.date)).toBe('[object Date]')
    expect(v.date.toISOString()).toBe('2020-01-02T03:04:05.678Z')

    expect(tag(v.buffer)).toBe('[object Uint8Array]')
    expect(Buffer.isBuffer(v.buffer)).toBe(false)
    expect(Buffer.from(v.buffer).toString()).toBe('hello')

    expect(tag(v.map)).toBe('[object Map]')
    expect([...v.map.entries()]).toEqual([
      ['a', 1],
      [2, { b: 'c' }],
    ])
    expect(tag(v.set)).toBe('[object Set]')
    expect([...v.set]).toEqual([1, 'two', 3n])
    expect(tag(v.regexp)).toBe('[object RegExp]')
    expect(v.regexp.source).toBe('ab+c')
    expect(v.regexp.flags).toBe('gi')
    expect(v.bigint).toBe(12345678901234567890n)
    expect('undef' in v).toBe(true)
    expect(v.undef).toBeUndefined()
    expect(v.nan).toBeNaN()
    expect(Object.is(v.negZero, -0)).toBe(true)
    expect(v.inf).toBe(-Infinity)

    expect(tag(v.f64)).toBe('[object Float64Array]')
    expect([...v.f64]).toEqual([1.5, -2.25])
    expect(tag(v.i16)).toBe('[object Int16Array]')
    expect([...v.i16]).toEqual([-1, 2, 3])
    expect(tag(v.u8c)).toBe('[object Uint8ClampedArray]')
    expect([...v.u8c]).toEqual([0, 255])
    expect(tag(v.big64)).toBe('[object BigInt64Array]')
    expect([...v.big64]).toEqual([-5n])
    expect(tag(v.dataView)).toBe('[object DataView]')
    expect(v.dataView.byteLength).toBe(2)
    expect([v.dataView.getUint8(0), v.dataView.getUint8(1)]).toEqual([2, 3])
    expect(tag(v.arrayBuffer)).toBe('[object ArrayBuffer]')
    expect([...new Uint8Array(v.arrayBuffer)]).toEqual([9, 8, 7])

    expect(v.sparse.length).toBe(3)
    expect(1 in v.sparse).toBe(false)
    expect([v.sparse[0], v.sparse[2]]).toEqual([1, 3])
    expect(v.arrayWithUndefined.length).toBe(2)
    expect(0 in v.arrayWithUndefined).toBe(true)
    expect(v.arrayWithUndefined[0]).toBeUndefined()
    expect(v.arrayWithUndefined[1]).toBeNull()

    expect(v.nested.deep.deeper[0]).toBe(v.nested.deep.deeper[1])
    expect(v.nested.deep.deeper[0]).toEqual({ shared: true })

    expect(tag(v.boxed)).toBe('[object String]')
    expect(typeof v.boxed).toBe('object')
    expect(String(v.boxed)).toBe('boxed')

    expect(tag(v.rangeError)).toBe('[object Error]')
    expect(v.rangeError.name).toBe('RangeError')
    expect(v.rangeError.message).toBe('out of range')

    // class instances lose their prototype: a plain object with the own enumerable fields
    expect(Object.getPrototypeOf(Object.getPrototypeOf(v.instance))).toBeNull()
    expect(v.instance.norm).toBeUndefined()
    expect({ ...v.instance }).toEqual({ x: 1, y: 2 })

    expect(Object.getOwnPropertyNames(v.withHidden)).toEqual(['visible'])
    expect(Object.getOwnPropertySymbols(v.withHidden)).toEqual([])

    expect(v.unicode).toBe('é€😀\ud800')
  }

  test('renderer to main (send)', async () => {
    const got = events.once(ipcMain, 'clone')
    ipcRenderer.send('clone', sample())
    const [, v] = await got
    checkSample(v)
  })

  test('renderer to main (sendSync arguments) and main to renderer (returnValue)', () => {
    let inMain
    ipcMain.on('clone', (e, v) => {
      inMain = v
      e.returnValue = sample()
    })
    const back = ipcRenderer.sendSync('clone', sample())
    checkSample(inMain)
    checkSample(back)
  })

  test('renderer to main (invoke arguments) and main to renderer (handler result)', async () => {
    let inMain
    ipcMain.handle('clone', (e, v) => {
      inMain = v
      return sample()
    })
    const back = await ipcRenderer.invoke('clone', sample())
    checkSample(inMain)
    checkSample(back)
  })

  test('main to renderer (webContents.send)', async () => {
    const contents = await defaultContents()
    const got = events.once(ipcRenderer, 'clone')
    contents.send('clone', sample())
    const [, v] = await got
    checkSample(v)
  })

  test('renderer to main (postMessage)', async () => {
    const got = events.once(ipcMain, 'clone')
    ipcRenderer.postMessage('clone', sample())
    const [, v] = await got
    checkSample(v)
  })

  test('can send instances of Date as Dates', async () => {
    const isoDate = new Date().toISOString()
    const got = events.once(ipcMain, 'message')
    ipcRenderer.send('message', new Date(isoDate))
    const [, received] = await got
    expect(received).toBeInstanceOf(Date)
    expect(received.toISOString()).toBe(isoDate)
  })

  test('can send instances of Buffer', async () => {
    const data = 'hello'
    const got = events.once(ipcMain, 'message')
    ipcRenderer.send('message', Buffer.from(data))
    const [, received] = await got
    expect(received).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(received)).toBe(false)
    expect(Buffer.from(data).equals(Buffer.from(received))).toBe(true)
  })

  test('received values are instances of the receiving realm\'s built-ins, whatever else the message carries', async () => {
    // Under jest the test file runs in its own realm: a Date must still be `instanceof Date`
    // (as in Electron), also when the same message holds a Map, a RegExp or a BigInt.
    const got = events.once(ipcMain, 'realm')
    ipcRenderer.send('realm', new Date(0), [1, 2], { a: 1 }, new Map([[1, 2]]), new Set([1]), /x/g, 1n)
    const [, date, array, object, map, set, regexp] = await got
    expect(date).toBeInstanceOf(Date)
    expect(array).toBeInstanceOf(Array)
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
    expect(map).toBeInstanceOf(Map)
    expect(set).toBeInstanceOf(Set)
    expect(regexp).toBeInstanceOf(RegExp)
  })

  test('can send objects that both reference the same object', async () => {
    const child = { hello: 'world' }
    const foo = { name: 'foo', child }
    const bar = { name: 'bar', child }
    const array = [foo, bar]
    const got = events.once(ipcMain, 'message')
    ipcRenderer.send('message', array, foo, bar, child)
    const [, arrayValue, fooValue, barValue, childValue] = await got
    expect(arrayValue).toEqual(array)
    expect(fooValue).toEqual(foo)
    expect(barValue).toEqual(bar)
    expect(childValue).toEqual(child)
    // identity is kept across arguments: all arguments are one structured clone
    expect(arrayValue[0]).toBe(fooValue)
    expect(arrayValue[1]).toBe(barValue)
    expect(fooValue.child).toBe(childValue)
    expect(barValue.child).toBe(childValue)
  })

  test('can handle cyclic references', async () => {
    const array = [5]
    array.push(array)
    const child = { hello: 'world' }
    child.child = child
    const got = events.once(ipcMain, 'message')
    ipcRenderer.send('message', array, child)
    const [, arrayValue, childValue] = await got
    expect(arrayValue[0]).toBe(5)
    expect(arrayValue[1]).toBe(arrayValue)
    expect(childValue.hello).toBe('world')
    expect(childValue.child).toBe(childValue)
  })

  test('cycles and shared references survive main to renderer too', async () => {
    const contents = await defaultContents()
    const child = { hello: 'world' }
    child.self = child
    const got = events.once(ipcRenderer, 'message')
    contents.send('message', child, [child])
    const [, a, b] = await got
    expect(a.self).toBe(a)
    expect(b[0]).toBe(a)
  })

  test('the receiver gets a copy: mutating the original after send changes nothing', async () => {
    const obj = { list: [1, 2], bytes: new Uint8Array([1, 2, 3]), big: new Uint8Array(200000).fill(7) }
    const got = events.once(ipcMain, 'copy')
    ipcRenderer.send('copy', obj)
    obj.list.push(3)
    obj.bytes[0] = 99
    obj.big.fill(8)
    const [, received] = await got
    expect(received).not.toBe(obj)
    expect(received.list).toEqual([1, 2])
    expect([...received.bytes]).toEqual([1, 2, 3])
    expect(received.big.every(b => b === 7)).toBe(true)
  })

  test('a received typed array is not overwritten by later messages', async () => {
    const kept = []
    ipcMain.on('bytes', (e, bytes) => kept.push(bytes))
    for (let i = 0; i < 20; i++) ipcRenderer.send('bytes', new Uint8Array(2000 + i).fill(i))
    ipcMain.on('pump', e => {
      e.returnValue = new Uint8Array(3000).fill(255)
    })
    // a sync round trip goes through the same buffers
    expect(ipcRenderer.sendSync('pump').length).toBe(3000)
    await tick()
    expect(kept.length).toBe(20)
    kept.forEach((bytes, i) => {
      expect(bytes.length).toBe(2000 + i)
      expect(bytes.every(b => b === i)).toBe(true)
    })
  })

  test('typed arrays from different ArrayBuffers arrive on different ArrayBuffers, each holding only its own bytes', async () => {
    const a = new Uint8Array(100000).fill(1)
    const b = new Uint8Array(100000).fill(2)
    const got = events.once(ipcMain, 'two-buffers')
    ipcRenderer.send('two-buffers', a, b)
    const [, ra, rb] = await got
    expect(ra.buffer).not.toBe(rb.buffer)
    for (const r of [ra, rb]) {
      expect(r.byteOffset).toBe(0)
      expect(r.buffer.byteLength).toBe(100000)
    }
    expect(new Uint8Array(ra.buffer).every(x => x === 1)).toBe(true)
    expect(new Uint8Array(rb.buffer).every(x => x === 2)).toBe(true)
  })

  test('views of one ArrayBuffer still share one ArrayBuffer on arrival', async () => {
    const ab = new ArrayBuffer(16)
    const x = new Uint8Array(ab, 0, 8)
    const y = new Uint8Array(ab, 8, 8)
    const got = events.once(ipcMain, 'views')
    ipcRenderer.send('views', x, y)
    const [, rx, ry] = await got
    expect(rx.buffer).toBe(ry.buffer)
    new Uint8Array(rx.buffer).fill(5)
    expect([...rx, ...ry].every(v => v === 5)).toBe(true)
  })
})

describe('payloads across the shared-memory threshold', () => {
  const SIZES = [0, 1, 65535, 65536, 65537, 262147, 3145729]

  // Deterministic bytes, four at a time (xorshift32).
  function makeBytes(n, seed) {
    const words = new Uint32Array(Math.ceil(n / 4))
    let x = (seed * 2654435761) >>> 0 || 1
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      words[i] = x >>> 0
    }
    return new Uint8Array(words.buffer, 0, n).slice()
  }

  const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \u00e9\u00fc', 'latin1')

  // A deterministic Latin-1 string of n characters.
  function makeString(n, seed) {
    const bytes = Buffer.from(makeBytes(n, seed))
    for (let i = 0; i < n; i++) bytes[i] = ALPHABET[bytes[i] % ALPHABET.length]
    return bytes.toString('latin1')
  }

  function values(n) {
    return [
      ['string', makeString(n, n + 1)],
      ['Uint8Array', makeBytes(n, n + 2)],
      [
        'nested object',
        { text: makeString(n, n + 3), bytes: makeBytes(n, n + 4), meta: { n, list: [1, 'two', { three: true }] } },
      ],
    ]
  }

  function feed(hash, v) {
    if (typeof v === 'string') {
      hash.update(`s${v.length}:`)
      hash.update(v, 'utf8')
    } else if (tag(v) === '[object Uint8Array]') {
      hash.update(`u${v.length}:`)
      hash.update(v)
    } else if (Array.isArray(v)) {
      hash.update(`a${v.length}[`)
      for (const x of v) feed(hash, x)
      hash.update(']')
    } else if (v !== null && typeof v === 'object') {
      hash.update('{')
      for (const k of Object.keys(v).sort()) {
        hash.update(`${k}=`)
        feed(hash, v[k])
      }
      hash.update('}')
    } else {
      hash.update(`${typeof v}:${String(v)};`)
    }
  }

  function digest(v) {
    const hash = crypto.createHash('sha256')
    feed(hash, v)
    return hash.digest('hex')
  }

  test.each(SIZES)(
    'round trips strings, typed arrays and nested objects of %i bytes through invoke, sendSync and send',
    async size => {
      const seenByMain = []
      ipcMain.handle('echo-invoke', (e, v) => {
        seenByMain.push(digest(v))
        return v
      })
      ipcMain.on('echo-sync', (e, v) => {
        seenByMain.push(digest(v))
        e.returnValue = v
      })
      ipcMain.on('echo-send', (e, v) => {
        seenByMain.push(digest(v))
        e.sender.send('echo-send-reply', v)
      })
      for (const [kind, value] of values(size)) {
        const expected = digest(value)
        const viaInvoke = await ipcRenderer.invoke('echo-invoke', value)
        const viaSync = ipcRenderer.sendSync('echo-sync', value)
        const reply = events.once(ipcRenderer, 'echo-send-reply')
        ipcRenderer.send('echo-send', value)
        const [, viaSend] = await reply
        expect([kind, digest(viaInvoke), digest(viaSync), digest(viaSend)]).toEqual([kind, expected, expected, expected])
        expect(seenByMain).toEqual([expected, expected, expected])
        seenByMain.length = 0
        if (kind === 'Uint8Array') {
          for (const v of [viaInvoke, viaSync, viaSend]) {
            expect(tag(v)).toBe('[object Uint8Array]')
            expect(v.length).toBe(size)
          }
        }
      }
    },
  )

  test('Uint8Arrays of every size around the 64 KiB inline buffer arrive intact', async () => {
    const got = []
    ipcMain.on('around', (e, bytes) => got.push(bytes))
    const sent = []
    for (let n = 65440; n <= 65560; n++) {
      const bytes = makeBytes(n, n)
      sent.push(digest(bytes))
      ipcRenderer.send('around', bytes)
    }
    await tick()
    expect(got.map(digest)).toEqual(sent)
  })
})
