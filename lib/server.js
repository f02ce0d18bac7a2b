'use strict'
// IpcServer: what `ipcMain.listen()` returns. Like a net.Server: it keeps the process alive while
// it listens (unless unref'd), emits 'connection' for each process that connects on its own, and
// 'connection-error' for connections it refused or that broke (an event, never a crash).

const { EventEmitter } = require('events')
const native = require('./native')

/** The environment variables that point a process at a main (address and secret). */
const ADDRESS_ENV = 'IPC_MAIN_ADDRESS'
const TOKEN_ENV = 'IPC_MAIN_TOKEN'

class IpcServer extends EventEmitter {
  constructor(ctx, info) {
    super()
    Object.defineProperty(this, '_ctx', { value: ctx })
    Object.defineProperty(this, '_held', { value: false, writable: true })
    /** Where it listens (a socket path). */
    this.address = info.address
    /** The secret a process must present to connect. */
    this.token = info.token
    /** `{ IPC_MAIN_ADDRESS, IPC_MAIN_TOKEN }`: spread into a child's env to make it connect. */
    this.env = { [ADDRESS_ENV]: info.address, [TOKEN_ENV]: info.token }
    this.listening = true
  }

  /** Keeps the process alive while listening (the default after `ipcMain.listen()`). */
  ref() {
    if (!this._held && this.listening) {
      this._held = true
      this._ctx.holdHub(1)
    }
    return this
  }

  unref() {
    if (this._held) {
      this._held = false
      this._ctx.holdHub(-1)
    }
    return this
  }

  /** Stops listening and removes the socket; processes already connected stay connected. */
  close() {
    if (!this.listening) return this
    this.unref()
    this.listening = false
    this._ctx.endpoint.closeServer()
    this._ctx.server = null
    this._ctx.removeRemotePeer()
    this.emit('close')
    return this
  }
}

/**
 * The main side's server, started on demand (`listen()`, or the first `webContents.fork`).
 * `explicit`: the user asked to listen, so it holds the process like a net.Server.
 */
function ensureServer(ctx, path, options, explicit) {
  let server = ctx.server
  if (server !== null) {
    if (path !== undefined && path !== null && path !== server.address) {
      throw native.ipcError(`This main already listens at ${server.address}`, 'ERR_IPC_ALREADY_LISTENING')
    }
  } else {
    if (path !== undefined && path !== null && typeof path !== 'string') {
      throw native.ipcError('The path must be a string', 'ERR_IPC_INVALID_ARG', TypeError)
    }
    // Its connections wake this thread: the signal must exist before the first one.
    ctx.addRemotePeer()
    let info
    try {
      info = ctx.endpoint.listen(path ?? null, options?.maxFrameSize ?? null)
    } catch (err) {
      ctx.removeRemotePeer()
      throw native.wrap(err)
    }
    server = ctx.server = new IpcServer(ctx, info)
  }
  if (explicit) server.ref()
  return server
}

module.exports = { IpcServer, ensureServer, ADDRESS_ENV, TOKEN_ENV }
