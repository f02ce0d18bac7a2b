'use strict'
// IpcMain: the main side's EventEmitter (`ipcMain`, and each `webContents.ipc`). Listeners are
// plain EventEmitter listeners; the core is told which channels have some, and which have an
// invoke handler, so it can route.

const native = require('./native')
const { TrackedEmitter } = require('./tracked-emitter')

class IpcMain extends TrackedEmitter {
  /**
   * @param ctx the module instance's context
   * @param scope native.Scope.MAIN or native.Scope.CONTENTS_IPC
   * @param renderer the WebContents id for CONTENTS_IPC, 0 for MAIN
   */
  constructor(ctx, scope, renderer) {
    super()
    Object.defineProperty(this, '_invokeHandlers', { value: new Map() })
    Object.defineProperty(this, '_native', { value: { ctx, scope, renderer }, writable: true })
    this._startTracking((name, on) => {
      native.binding.setListening(ctx.id, scope, renderer, native.channelId(name), on)
    })

    // Own properties, bound to this instance, as Electron defines them.
    this.handle = (channel, fn) => {
      if (this._invokeHandlers.has(channel)) {
        throw native.ipcError(`Attempted to register a second handler for '${channel}'`, 'ERR_IPC_SECOND_HANDLER')
      }
      if (typeof fn !== 'function') {
        throw native.ipcError(
          `Expected handler to be a function, but found type '${typeof fn}'`,
          'ERR_IPC_INVALID_HANDLER',
          TypeError,
        )
      }
      this._invokeHandlers.set(channel, fn)
      // Only a string can be invoked; other keys are kept, as Electron does, but never reached.
      if (typeof channel === 'string') native.binding.setHandler(ctx.id, scope, renderer, native.channelId(channel), true)
    }
    this.handleOnce = (channel, fn) => {
      // Removed before it runs, so a second concurrent invoke already finds no handler.
      this.handle(channel, (event, ...args) => {
        this.removeHandler(channel)
        return fn(event, ...args)
      })
    }

    // Electron's no-op: a renderer sending on channel 'error' must not throw in main.
    this.on('error', () => {})
  }

  /**
   * Listens for renderer processes this main did not start (`ipcMain` only): at `path`, or in a
   * private directory. Returns the IpcServer: its `env` is what such a process needs in its
   * environment (or pass `address` and `token` to `connect()` there).
   */
  listen(path, options) {
    const { ctx, scope } = this._native
    if (scope !== native.Scope.MAIN) {
      throw native.ipcError('Only ipcMain can listen', 'ERR_IPC_INVALID_ARG')
    }
    if (path !== null && typeof path === 'object') {
      options = path
      path = undefined
    }
    return require('./server').ensureServer(ctx, path, options, true)
  }

  removeHandler(channel) {
    if (this._invokeHandlers.delete(channel) && typeof channel === 'string') {
      const { ctx, scope, renderer } = this._native
      native.binding.setHandler(ctx.id, scope, renderer, native.channelId(channel), false)
    }
  }
}

module.exports = { IpcMain }
