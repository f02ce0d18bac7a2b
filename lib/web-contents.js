'use strict'
// WebContents: the main side's handle on one renderer, and the `webContents` module that makes
// and finds them.

const { Worker, SHARE_ENV } = require('worker_threads')
const clone = require('./clone')
const native = require('./native')
const { IpcMain } = require('./ipc-main')
const { IpcRenderer } = require('./ipc-renderer')
const { TrackedEmitter } = require('./tracked-emitter')

const { binding, Scope, RendererKind } = native

// The two WebContents events that see every message; the core routes by whether they have listeners.
const IPC_EVENTS = new Set(['ipc-message', 'ipc-message-sync'])

/** How a renderer thread or process learns which renderer it is (read once, then removed). */
const RENDERER_ENV = 'IPC_MAIN_RENDERER'

function destroyedError() {
  return native.ipcError('Object has been destroyed', 'ERR_IPC_OBJECT_DESTROYED', TypeError)
}

class WebContents extends TrackedEmitter {
  constructor(ctx, id, kind, processId) {
    super()
    Object.defineProperty(this, 'id', { value: id, enumerable: true })
    Object.defineProperties(this, {
      _ctx: { value: ctx },
      _kind: { value: kind },
      _processId: { value: processId, writable: true },
      _destroyed: { value: false, writable: true },
      // Set for renderers in another thread or process: stops it; `gone` is announced on exit.
      _terminate: { value: null, writable: true },
      _announced: { value: false, writable: true },
    })
    /** Receives only this renderer's messages (Electron 17+). */
    this.ipc = new IpcMain(ctx, Scope.CONTENTS_IPC, id)
    this._startTracking((name, on) => {
      if (IPC_EVENTS.has(name)) {
        binding.setListening(ctx.id, Scope.CONTENTS_EVENTS, id, native.channelId(name), on)
      }
    })
  }

  send(channel, ...args) {
    if (this._destroyed) throw destroyedError()
    if (typeof channel !== 'string') {
      throw native.ipcError('Missing required channel argument', 'ERR_IPC_INVALID_CHANNEL', TypeError)
    }
    let bytes
    try {
      bytes = clone.serializeArgs(args)
    } catch {
      // Electron 17+ logs this and sends nothing, rather than throwing.
      console.error('Error sending from webFrameMain: ', new Error('Failed to serialize arguments'))
      return
    }
    const ctx = this._ctx
    let wake
    try {
      wake = binding.sendToRenderer(ctx.id, this.id, native.channelId(channel), bytes)
    } catch (err) {
      throw native.wrap(err)
    }
    if (wake) ctx.schedule()
  }

  isDestroyed() {
    return this._destroyed
  }

  destroy() {
    destroyWebContents(this, null)
  }
}

/** Ends the renderer in the core: no more sends either way, pending requests end. Once. */
function retire(wc) {
  if (wc._destroyed) return
  const ctx = wc._ctx
  wc._destroyed = true
  let wake = false
  try {
    wake = binding.destroyRenderer(ctx.id, wc.id)
  } catch {
    // Already gone in the core (its main side was closed): nothing left to release there.
  }
  if (wake) ctx.schedule()
  ctx.contents.delete(wc.id)
  const renderer = ctx.renderers.get(wc.id)
  if (renderer !== undefined) {
    renderer._released()
    ctx.renderers.delete(wc.id)
  }
}

/** `render-process-gone` (when `gone` has details) then `destroyed`, each once. */
function announce(wc, gone) {
  if (wc._announced) return
  wc._announced = true
  if (gone) {
    const event = {
      sender: wc,
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true
      },
    }
    wc.emit('render-process-gone', event, gone)
  }
  wc.emit('destroyed')
}

function createWebContents(ctx, kind, processId) {
  let id
  try {
    id = binding.createRenderer(ctx.id, kind)
  } catch (err) {
    throw native.wrap(err)
  }
  const wc = new WebContents(ctx, id, kind, processId)
  ctx.contents.set(id, wc)
  return wc
}

/** An in-process renderer; `renderer` is an unbound IpcRenderer to use (the default one). */
function createInProcess(ctx, renderer) {
  const wc = createWebContents(ctx, RendererKind.IN_PROCESS, process.pid)
  let ipcRenderer = renderer
  if (ipcRenderer === null) {
    ipcRenderer = new IpcRenderer(ctx, () => wc.id, false)
    ipcRenderer._ensure()
  }
  Object.defineProperty(wc, 'ipcRenderer', { value: ipcRenderer, enumerable: true })
  return wc
}

/**
 * Destroys a WebContents. In-process: at once, `destroyed` fires. A renderer in another thread
 * or process is released at once (its blocked sendSync returns, sends to it throw) and stopped;
 * `render-process-gone` (reason 'killed') and `destroyed` fire when it has exited.
 */
function destroyWebContents(wc) {
  if (wc._destroyed) return
  retire(wc)
  if (wc._terminate !== null) wc._terminate()
  else announce(wc, null)
}

/** Why a renderer ended, in Electron's words. */
function goneReason(killed, crash, exitCode) {
  if (killed) return 'killed'
  if (crash) return crash.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crashed'
  return exitCode === 0 ? 'clean-exit' : 'abnormal-exit'
}

/** A renderer in a worker thread running `modulePath`. */
function createWorker(ctx, modulePath, options = {}) {
  if (options.env === SHARE_ENV) {
    throw native.ipcError(
      'A renderer worker needs its own environment: env: SHARE_ENV is not supported',
      'ERR_IPC_INVALID_ARG',
      TypeError,
    )
  }
  const wc = createWebContents(ctx, RendererKind.WORKER, process.pid)
  const env = { ...(options.env ?? process.env), [RENDERER_ENV]: String(wc.id) }
  let worker
  try {
    worker = new Worker(modulePath, { ...options, env })
  } catch (err) {
    retire(wc)
    throw err
  }
  ctx.addRemotePeer()
  let killed = false
  let crash = null
  wc._terminate = () => {
    killed = true
    worker.terminate()
  }
  worker.on('error', err => {
    crash = err
  })
  worker.on('exit', exitCode => {
    // Everything it sent before exiting is dispatched before it is declared gone.
    ctx.drainAll()
    retire(wc)
    ctx.removeRemotePeer()
    const details = { reason: goneReason(killed, crash, exitCode), exitCode }
    if (crash) {
      details.error = crash
      if (wc.listenerCount('render-process-gone') === 0) {
        console.error(`WebContents #${wc.id} (worker ${modulePath}) crashed:`, crash)
      }
    }
    announce(wc, details)
  })
  return wc
}

function webContentsModule(ctx) {
  return {
    /** A renderer running in this thread; its `ipcRenderer` talks to this `ipcMain`. */
    create() {
      return createInProcess(ctx, null)
    },
    /** A renderer running `modulePath` in a worker thread (options as for `new Worker`). */
    worker(modulePath, options) {
      return createWorker(ctx, modulePath, options)
    },
    getAllWebContents() {
      return binding
        .renderers(ctx.id)
        .map(id => ctx.contents.get(id))
        .filter(wc => wc !== undefined)
    },
    fromId(id) {
      return ctx.contents.get(id)
    },
  }
}

module.exports = { WebContents, webContentsModule, createInProcess, destroyWebContents, RENDERER_ENV }
