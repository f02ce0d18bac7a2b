'use strict'
// IpcRenderer: a renderer's EventEmitter and its way to main. The same class serves every kind
// of renderer; only `sendSync` differs: in-process it dispatches inline (this thread is main's
// thread too), elsewhere it blocks this thread in the core until main answers.

const { MessagePort } = require('worker_threads')
const clone = require('./clone')
const native = require('./native')
const { TrackedEmitter } = require('./tracked-emitter')
const { RingWriter, NO_ROOM, WAKE_MAIN } = require('./ring')

const { binding, Kind } = native

function checkChannel(channel) {
  if (typeof channel !== 'string') {
    throw native.ipcError(
      `Error processing argument at index 1, conversion failure from ${describe(channel)}`,
      'ERR_IPC_INVALID_CHANNEL',
      TypeError,
    )
  }
}

function describe(value) {
  try {
    return String(value)
  } catch {
    return typeof value
  }
}

// One-way messages of a worker up to this size go through its ring; bigger ones through the
// core (a large one is taken over there without a copy).
const RING_LIMIT = 16 * 1024

/** The send ring of worker renderer `id`, or null where it has none (a renderer process). */
function openRing(endpoint, id) {
  try {
    return new RingWriter(binding.openRing(endpoint, id))
  } catch {
    return null
  }
}

function kick(endpoint, id) {
  try {
    binding.kick(endpoint, id)
  } catch (err) {
    throw native.wrap(err)
  }
}

function released() {
  return native.ipcError('IPC method called after context was released', 'ERR_IPC_CONTEXT_RELEASED')
}

class IpcRenderer extends TrackedEmitter {
  /**
   * @param ctx the context of this thread
   * @param bind returns the renderer id, creating the renderer on first use if need be
   * @param blocking whether sendSync blocks this thread (the renderer's main is elsewhere)
   */
  constructor(ctx, bind, blocking) {
    super()
    Object.defineProperty(this, '_ipc', {
      // remote: main is in another process (set by connect): large Buffers are then spliced (see
      // lib/clone.js serialize), written to the socket from where they are.
      value: { ctx, bind, blocking, id: 0, released: false, ring: undefined, stageSends: false, remote: false },
      writable: true,
    })
    // A renderer in another thread keeps it alive while it listens, like a MessagePort.
    if (blocking) this._startTracking(() => ctx.updateRef())
  }

  /** The renderer id, binding (creating) the renderer on first use; 0 once released. */
  _ensure() {
    const ipc = this._ipc
    if (ipc.id === 0 && !ipc.released) {
      ipc.id = ipc.bind()
      ipc.ctx.renderers.set(ipc.id, this)
    }
    return ipc.released ? 0 : ipc.id
  }

  _id() {
    const id = this._ensure()
    if (id === 0) throw released()
    return id
  }

  _released() {
    this._ipc.released = true
  }

  // Listening counts as use: messages can only reach a renderer that exists.
  on(name, listener) {
    this._ensure()
    return super.on(name, listener)
  }

  prependListener(name, listener) {
    this._ensure()
    return super.prependListener(name, listener)
  }

  send(channel, ...args) {
    checkChannel(channel)
    const id = this._id()
    this._oneWay(id, Kind.SEND, native.channelId(channel), clone.serializeArgs(args, this._ipc.remote))
  }

  _oneWay(id, kind, channel, bytes) {
    const ipc = this._ipc
    const { ctx, blocking } = ipc
    // Large Buffers the encoder left out of `bytes`: the native call reads them where they are.
    const splices = clone.takeSplices()
    if (splices !== null) {
      // not into the outbox or the ring, which hold only `bytes`
    } else if (!blocking) {
      // In-process: main reads it on this thread's next drain, so it can wait in the outbox.
      if (ctx.stage(id, kind, channel, bytes)) return
    } else if (bytes.length <= RING_LIMIT) {
      // A worker: into its ring, which main reads without this thread's help.
      if (ipc.ring === undefined) ipc.ring = openRing(ctx.id, id)
      const ring = ipc.ring
      if (ring !== null) {
        let done = ring.write(kind, channel, bytes)
        if (done === NO_ROOM) {
          // Main is behind: hand it what the ring holds (this thread does the moving), and go on.
          kick(ctx.id, id)
          done = ring.write(kind, channel, bytes)
        }
        if (done === WAKE_MAIN) kick(ctx.id, id)
        if (done !== NO_ROOM) return
      } else if (ipc.stageSends && ctx.stage(id, kind, channel, bytes, true)) {
        // A renderer process (no ring: main is in another process): its sends wait in the
        // outbox until this thread yields or next calls into the core, then go out together
        // (a full outbox at once, so a long synchronous run of sends keeps flowing).
        return
      }
    }
    let wake
    try {
      ctx.flush()
      wake = binding.send(ctx.id, id, kind, channel, bytes, splices)
    } catch (err) {
      throw native.wrap(err)
    }
    if (wake) ctx.schedule()
  }

  postMessage(channel, message, transfer) {
    checkChannel(channel)
    if (transfer !== undefined) {
      // Electron's check first: only MessagePorts may be transferred (an ArrayBuffer may not).
      if (!Array.isArray(transfer) || !transfer.every(port => port instanceof MessagePort)) {
        throw native.ipcError('Invalid value for transfer', 'ERR_IPC_INVALID_TRANSFER', TypeError)
      }
      if (transfer.length > 0) {
        throw native.ipcError('Transferring MessagePorts is not supported by ipc-main', 'ERR_IPC_UNSUPPORTED')
      }
    }
    const id = this._id()
    this._oneWay(id, Kind.POST, native.channelId(channel), clone.serializeArgs([message], this._ipc.remote))
  }

  sendSync(channel, ...args) {
    checkChannel(channel)
    const id = this._id()
    const { ctx, blocking, remote } = this._ipc
    const bytes = clone.serializeArgs(args, remote)
    const splices = clone.takeSplices()
    const ch = native.channelId(channel)
    let n
    try {
      ctx.flush()
      if (blocking) {
        n = binding.syncBlocking(ctx.id, id, ch, bytes, ctx.scratch, splices)
      } else {
        let request = binding.syncInline(ctx.id, id, ch, bytes)
        if (request < 0) {
          request = -request
          ctx.schedule()
        }
        ctx.pumpUntil(request)
        n = binding.takeInline(request, ctx.scratch)
      }
    } catch (err) {
      throw native.wrap(err)
    }
    return ctx.readReply(n)
  }

  invoke(channel, ...args) {
    const { ctx, remote } = this._ipc
    let request
    try {
      checkChannel(channel)
      const id = this._id()
      const bytes = clone.serializeArgs(args, remote)
      const splices = clone.takeSplices()
      try {
        ctx.flush()
        request = binding.invoke(ctx.id, id, native.channelId(channel), bytes, splices)
      } catch (err) {
        throw native.wrap(err)
      }
    } catch (err) {
      // invoke is asynchronous in Electron: every failure is a rejection.
      return Promise.reject(err)
    }
    if (request < 0) {
      request = -request
      ctx.schedule()
    }
    // Main is in another thread or process: poll for its answer a while rather than sleep.
    if (this._ipc.blocking) ctx.endpoint.expectSoon()
    return ctx.awaitInvoke(request, channel)
  }
}

module.exports = { IpcRenderer }
