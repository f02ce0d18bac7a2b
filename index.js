'use strict'
// ipc-main: Electron's IPC model (ipcMain, ipcRenderer, webContents) for plain Node.js.
// Each load of this module (each thread, each jest module registry) gets its own main side in
// the process-wide Rust core. `ipcRenderer` is, in order:
// 1. in a renderer started by `webContents.worker` or `webContents.fork`: connected to its parent;
// 2. in a process whose environment names a main (IPC_MAIN_ADDRESS, IPC_MAIN_TOKEN): that main;
// 3. otherwise: this process's own in-process renderer, made on first use.

const { isMainThread } = require('worker_threads')
const { Context } = require('./lib/context')
const { IpcMain } = require('./lib/ipc-main')
const { IpcRenderer } = require('./lib/ipc-renderer')
const { MainConnection } = require('./lib/connection')
const { ADDRESS_ENV, TOKEN_ENV } = require('./lib/server')
const { webContentsModule, createInProcess, destroyWebContents, RENDERER_ENV } = require('./lib/web-contents')
const native = require('./lib/native')

// At exit: the last messages to a main in another process go out (with goodbye), and threads
// blocked in sendSync are released, so nothing holds up the exit. Once per process.
if (isMainThread && native.binding.claimExitHook()) {
  process.on('exit', code => native.binding.shutdown(code ?? 0))
}

const ctx = new Context()
const ipcMain = new IpcMain(ctx, native.Scope.MAIN, 0)
ctx.ipcMain = ipcMain
const webContents = webContentsModule(ctx)

// Later loads of this module in the same renderer thread share the first one's ipcRenderer.
const CONNECTED = Symbol.for('ipc-main.connected-renderer')

/** The renderer id main gave this thread or process, taken from the environment (once). */
function assignedRenderer() {
  const id = Number(process.env[RENDERER_ENV])
  delete process.env[RENDERER_ENV]
  return Number.isInteger(id) && id > 0 ? id : 0
}

/** The ipcRenderer of a renderer thread started by `webContents.worker`, or null. */
function workerRenderer() {
  const id = assignedRenderer()
  if (id === 0) return null
  // Main wakes this thread when it sends (so the signal must exist before connecting); the
  // thread stays alive while it listens or awaits a reply.
  ctx.addRemotePeer()
  let wake
  try {
    wake = native.binding.connect(ctx.id, id)
  } catch {
    // Destroyed before it could connect, or claimed by another load: not a renderer after all.
    ctx.removeRemotePeer()
    return null
  }
  ctx.holdsLoop = true
  const renderer = new IpcRenderer(ctx, () => id, true)
  renderer._ensure()
  if (wake) ctx.schedule()
  return renderer
}

/**
 * Connects this thread, as a renderer, to the main listening at `address` (see
 * `ipcMain.listen()` there), and returns its ipcRenderer. Synchronous: usable at once.
 * `options.exitOnClose` (default false here): exit this process when main goes away.
 */
function connect(address, token, options = {}) {
  return connectTo(address, token, 0, options.exitOnClose ?? false, options.maxFrameSize)
}

function connectTo(address, token, expected, exitOnClose, maxFrameSize) {
  if (typeof address !== 'string' || typeof token !== 'string') {
    throw native.ipcError('connect(address, token) takes two strings', 'ERR_IPC_INVALID_ARG', TypeError)
  }
  ctx.addRemotePeer()
  let info
  try {
    info = ctx.endpoint.connectMain(address, token, expected, maxFrameSize ?? null)
  } catch (err) {
    ctx.removeRemotePeer()
    throw native.wrap(err)
  }
  ctx.holdsLoop = true
  const renderer = new IpcRenderer(ctx, () => info.renderer, true)
  renderer._ipc.remote = true
  renderer._ensure()
  if (isMainThread) {
    // Its sends wait in this thread's outbox until it yields (see IpcRenderer#_oneWay); what is
    // still there when the process exits goes out first.
    renderer._ipc.stageSends = true
    if (!ctx.flushesAtExit) {
      ctx.flushesAtExit = true
      process.prependListener('exit', () => ctx.flushAtExit())
    }
  }
  const connection = new MainConnection(address, info, exitOnClose)
  Object.defineProperty(renderer, 'connection', { value: connection, enumerable: false })
  ctx.connections.set(info.renderer, connection)
  return renderer
}

ctx.onControl.mainGone = id => {
  const connection = ctx.connections.get(id)
  if (connection !== undefined) {
    ctx.connections.delete(id)
    ctx.removeRemotePeer()
    connection._closed()
  }
}

/** The ipcRenderer of a process whose environment names a main to connect to, or null. */
function processRenderer() {
  const address = process.env[ADDRESS_ENV]
  const token = process.env[TOKEN_ENV]
  if (!isMainThread || address === undefined || token === undefined) return null
  delete process.env[ADDRESS_ENV]
  delete process.env[TOKEN_ENV]
  // Started as a renderer: exit with main, as an Electron renderer does.
  return connectTo(address, token, assignedRenderer(), true)
}

function connectedRenderer() {
  if (globalThis[CONNECTED] !== undefined) return globalThis[CONNECTED]
  const renderer = isMainThread ? processRenderer() : workerRenderer()
  if (renderer !== null) globalThis[CONNECTED] = renderer
  return renderer
}

// Otherwise: this process's own in-process renderer, made on first use, so the main and
// renderer snippets of Electron's documentation run together in one file.
const ipcRenderer =
  connectedRenderer() ?? new IpcRenderer(ctx, () => createInProcess(ctx, ipcRenderer).id, false)

/** This process's connection to its main, when `ipcRenderer` is connected to one over a socket. */
const connection = ipcRenderer.connection ?? null

/**
 * Back to the state of a fresh load, for tests: every WebContents made here is destroyed, the
 * server (if any) closed, every ipcMain listener and handler removed (Electron's no-op 'error'
 * listener is put back), and the default ipcRenderer loses its listeners and gets a new renderer
 * on its next use.
 */
function reset() {
  for (const wc of webContents.getAllWebContents()) destroyWebContents(wc)
  if (ctx.server !== null) ctx.server.close()
  ipcMain.removeAllListeners()
  for (const channel of [...ipcMain._invokeHandlers.keys()]) ipcMain.removeHandler(channel)
  ipcMain.on('error', () => {})
  if (ipcRenderer._ipc.blocking) return
  ipcRenderer.removeAllListeners()
  ipcRenderer._ipc = { ...ipcRenderer._ipc, id: 0, released: false, ring: undefined }
}

/**
 * What the core holds for this main side right now: requests it still owes an answer to, messages
 * queued for this thread and not yet dispatched, and live WebContents. For tests and debugging
 * (e.g. asserting that nothing is left pending after a renderer died).
 */
function diagnostics() {
  return ctx.diagnostics()
}

module.exports = { ipcMain, ipcRenderer, webContents, connect, connection, reset, diagnostics }
