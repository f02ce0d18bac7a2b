'use strict'
// WebContents: the main side's handle on one renderer, and the `webContents` module that makes
// and finds them.

const childProcess = require('child_process')
const os = require('os')
const { setTimeout } = require('timers')
const { Worker, SHARE_ENV } = require('worker_threads')
const clone = require('./clone')
const native = require('./native')
const { IpcMain } = require('./ipc-main')
const { IpcRenderer } = require('./ipc-renderer')
const { TrackedEmitter } = require('./tracked-emitter')
const { ensureServer } = require('./server')

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
      // The renderer's standard streams where they are piped to main (a worker's, or a forked
      // process's with `silent` or `stdio: 'pipe'`), as on Worker and ChildProcess; else null.
      stdin: { value: null, writable: true, enumerable: true },
      stdout: { value: null, writable: true, enumerable: true },
      stderr: { value: null, writable: true, enumerable: true },
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
      // Spliced for a renderer process only: anywhere else the message is copied anyway, and
      // better here than under the core's lock.
      bytes = clone.serializeArgs(args, this._kind === RendererKind.PROCESS)
    } catch {
      // Electron 17+ logs this and sends nothing, rather than throwing.
      console.error('Error sending from webFrameMain: ', new Error('Failed to serialize arguments'))
      return
    }
    // Large Buffers left out of `bytes` are read where they are by the call below (no JS between).
    const splices = clone.takeSplices()
    const ctx = this._ctx
    let wake
    try {
      ctx.flush()
      wake = binding.sendToRenderer(ctx.id, this.id, native.channelId(channel), bytes, splices)
    } catch (err) {
      throw native.wrap(err)
    }
    if (wake) ctx.schedule()
  }

  isDestroyed() {
    return this._destroyed
  }

  /** The operating system's id of the renderer's process (this process's for threads). */
  getOSProcessId() {
    return this._processId
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
    ctx.flush()
    wake = binding.destroyRenderer(ctx.id, wc.id)
  } catch {
    // Already gone in the core (its main side was closed): nothing left to release there.
  }
  if (wake) ctx.schedule()
  ctx.contents.delete(wc.id)
  ctx.forget(wc)
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
  // A renderer in a thread or process is stopped before the core lets go of it: told first that
  // main released it, it could end by itself (exit code 0) before the stop arrives.
  const terminate = wc._terminate
  if (terminate !== null) terminate()
  retire(wc)
  if (terminate === null) announce(wc, null)
}

/** Hands a Worker's or ChildProcess's piped standard streams to its WebContents. */
function pipes(wc, from) {
  wc.stdin = from.stdin ?? null
  wc.stdout = from.stdout ?? null
  wc.stderr = from.stderr ?? null
}

/** Why a renderer ended, in Electron's words. */
function goneReason(killed, crash, exitCode) {
  if (killed) return 'killed'
  if (crash) return crash.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crashed'
  return exitCode === 0 ? 'clean-exit' : 'abnormal-exit'
}

// Signals that mean the process crashed rather than was stopped.
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGABRT', 'SIGFPE', 'SIGSYS', 'SIGTRAP'])
// If a process exited but its connection has not reported its end after this long, stop waiting.
const CONNECTION_END_GRACE_MS = 2000

/** `render-process-gone` details for a child process that exited with `code` or `signal`. */
function processGone(killed, code, signal) {
  const exitCode = code ?? 128 + (os.constants.signals[signal] ?? 0)
  let reason
  if (killed) reason = 'killed'
  else if (signal) reason = CRASH_SIGNALS.has(signal) ? 'crashed' : 'killed'
  else reason = code === 0 ? 'clean-exit' : 'abnormal-exit'
  return { reason, exitCode }
}

/**
 * A renderer in a child process running `modulePath`, started like `child_process.fork` with its
 * environment pointing at this main (which starts listening, privately, if it was not).
 */
function createProcess(ctx, modulePath, args, options) {
  if (!Array.isArray(args)) {
    options = args
    args = []
  }
  options = options ?? {}
  const server = ensureServer(ctx, undefined, undefined, false)
  const wc = createWebContents(ctx, RendererKind.PROCESS, 0)
  const env = { ...(options.env ?? process.env), ...server.env, [RENDERER_ENV]: String(wc.id) }
  let child
  try {
    child = childProcess.fork(modulePath, args, { ...options, env })
  } catch (err) {
    retire(wc)
    throw err
  }
  wc._processId = child.pid
  pipes(wc, child)
  ctx.addRemotePeer()
  // Gone once the process has exited and its connection has delivered all it sent.
  const state = { connected: false, ended: false, exit: null, killed: false, launchError: null, grace: null }
  const finish = () => {
    clearTimeout(state.grace)
    if (wc._announced) return
    ctx.drainAll()
    retire(wc)
    ctx.procs.delete(wc.id)
    ctx.removeRemotePeer()
    const details = state.launchError
      ? { reason: 'launch-failed', exitCode: -1, error: state.launchError }
      : processGone(state.killed, state.exit.code, state.exit.signal)
    announce(wc, details)
  }
  ctx.procs.set(wc.id, {
    connected(details) {
      state.connected = true
      if (details.pid) wc._processId = details.pid
    },
    gone() {
      state.ended = true
      if (state.exit !== null) finish()
    },
  })
  wc._terminate = () => {
    if (state.exit !== null) {
      // It exited by itself and its connection has not ended yet: released now, that end will
      // not be reported. Announced as it exited, soon (not from inside destroy()); `finish`
      // clears the grace timer.
      setImmediate(finish)
      return
    }
    state.killed = true
    child.kill('SIGKILL')
  }
  child.on('error', err => {
    // Only a process that never started ends here; other errors come with 'exit'.
    if (child.pid === undefined) {
      state.launchError = err
      finish()
    }
  })
  child.on('exit', (code, signal) => {
    state.exit = { code, signal }
    // A destroyed renderer's last messages are dropped anyway: no need to wait for them.
    if (!state.connected || state.ended || wc._destroyed) finish()
    // Its connection's end (and whatever it sent last) is still to come: the timer holds the
    // process until then, or `destroyed` would be lost if nothing else kept the loop alive.
    else state.grace = setTimeout(finish, CONNECTION_END_GRACE_MS)
  })
  return wc
}

/** A process connected to `ipcMain.listen()` on its own: it becomes a WebContents here. */
function acceptProcess(ctx, id, details) {
  const wc = new WebContents(ctx, id, RendererKind.PROCESS, details.pid ?? 0)
  ctx.contents.set(id, wc)
  ctx.addRemotePeer()
  // Connected processes keep main alive, as sockets do.
  ctx.holdHub(1)
  let gone = false
  const end = details => {
    if (gone) return
    gone = true
    ctx.procs.delete(id)
    ctx.drainAll()
    retire(wc)
    ctx.holdHub(-1)
    ctx.removeRemotePeer()
    announce(wc, details)
  }
  ctx.procs.set(id, {
    connected() {},
    // Its connection ended: it said goodbye with its exit code, or it just vanished.
    gone(info) {
      if (info.exitCode === undefined) end({ reason: 'crashed', exitCode: -1 })
      else end({ reason: info.exitCode === 0 ? 'clean-exit' : 'abnormal-exit', exitCode: info.exitCode })
    },
  })
  // Destroying it closes its connection (the process decides what to do about that); released
  // first, so what it sent and main has not dispatched yet is dropped, not dispatched from here.
  wc._terminate = () => {
    retire(wc)
    end({ reason: 'killed', exitCode: -1 })
  }
  return wc
}

/** Routes the core's news about process renderers of this main. */
function handleProcessControl(ctx) {
  ctx.onControl.connected = (id, details) => {
    const proc = ctx.procs.get(id)
    if (proc !== undefined) proc.connected(details)
    else if (ctx.server !== null) ctx.server.emit('connection', acceptProcess(ctx, id, details))
  }
  ctx.onControl.rendererGone = (id, details) => {
    const proc = ctx.procs.get(id)
    if (proc !== undefined) proc.gone(details)
  }
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
  pipes(wc, worker)
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
  handleProcessControl(ctx)
  return {
    /** A renderer running in this thread; its `ipcRenderer` talks to this `ipcMain`. */
    create() {
      return createInProcess(ctx, null)
    },
    /** A renderer running `modulePath` in a worker thread (options as for `new Worker`). */
    worker(modulePath, options) {
      return createWorker(ctx, modulePath, options)
    },
    /** A renderer running `modulePath` in a child process (args and options as `child_process.fork`). */
    fork(modulePath, args, options) {
      return createProcess(ctx, modulePath, args, options)
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
