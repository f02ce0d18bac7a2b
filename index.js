'use strict'
// ipc-main: Electron's IPC model (ipcMain, ipcRenderer, webContents) for plain Node.js.
// Each load of this module (each thread, each jest module registry) gets its own main side in
// the process-wide Rust core. In a renderer started by `webContents.worker`, `ipcRenderer` is
// connected to the main side that started it.

const { isMainThread } = require('worker_threads')
const { Context } = require('./lib/context')
const { IpcMain } = require('./lib/ipc-main')
const { IpcRenderer } = require('./lib/ipc-renderer')
const { webContentsModule, createInProcess, destroyWebContents, RENDERER_ENV } = require('./lib/web-contents')
const native = require('./lib/native')

// Threads blocked in sendSync must not hold up the exit of the process.
if (isMainThread && native.binding.claimExitHook()) {
  process.on('exit', () => native.binding.shutdown())
}

const ctx = new Context()
const ipcMain = new IpcMain(ctx, native.Scope.MAIN, 0)
ctx.ipcMain = ipcMain
const webContents = webContentsModule(ctx)

// Later loads of this module in the same renderer thread share the first one's ipcRenderer.
const CONNECTED = Symbol.for('ipc-main.connected-renderer')

/** The ipcRenderer of a renderer thread started by `webContents.worker`, or null. */
function connectedRenderer() {
  if (isMainThread) return null
  if (globalThis[CONNECTED] !== undefined) return globalThis[CONNECTED]
  const id = Number(process.env[RENDERER_ENV])
  if (!Number.isInteger(id) || id <= 0) return null
  delete process.env[RENDERER_ENV]
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
  globalThis[CONNECTED] = renderer
  return renderer
}

// Otherwise: this process's own in-process renderer, made on first use, so the main and
// renderer snippets of Electron's documentation run together in one file.
const ipcRenderer =
  connectedRenderer() ?? new IpcRenderer(ctx, () => createInProcess(ctx, ipcRenderer).id, false)

/**
 * Back to the state of a fresh load, for tests: every WebContents made here is destroyed, every
 * ipcMain listener and handler removed (Electron's no-op 'error' listener is put back), and the
 * default ipcRenderer loses its listeners and gets a new renderer on its next use.
 */
function reset() {
  for (const wc of webContents.getAllWebContents()) destroyWebContents(wc)
  ipcMain.removeAllListeners()
  for (const channel of [...ipcMain._invokeHandlers.keys()]) ipcMain.removeHandler(channel)
  ipcMain.on('error', () => {})
  if (ipcRenderer._ipc.blocking) return
  ipcRenderer.removeAllListeners()
  ipcRenderer._ipc = { ...ipcRenderer._ipc, id: 0, released: false }
}

/**
 * What the core holds for this main side right now: requests it still owes an answer to, messages
 * queued for this thread and not yet dispatched, and live WebContents. For tests and debugging
 * (e.g. asserting that nothing is left pending after a renderer died).
 */
function diagnostics() {
  return ctx.diagnostics()
}

module.exports = { ipcMain, ipcRenderer, webContents, reset, diagnostics }
