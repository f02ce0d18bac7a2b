// Type definitions for ipc-main: Electron's IPC model for plain Node.js.
// The names are Electron's, so code typed against `electron` type-checks against this package.

/// <reference types="node" />
import { EventEmitter } from 'events'
import { WorkerOptions } from 'worker_threads'
import { ForkOptions } from 'child_process'
import { Readable, Writable } from 'stream'

/** Passed to `ipcMain.handle` handlers. */
export interface IpcMainInvokeEvent {
  /** Always `'frame'`. */
  type: 'frame'
  /** The OS process id of the process the renderer runs in. */
  processId: number
  /** The renderer's frame: always its main frame, `1`. */
  frameId: number
  /** The renderer that sent the message. */
  sender: WebContents
  defaultPrevented: boolean
  preventDefault(): void
}

/** Passed to `ipcMain.on` (and `webContents.ipc.on`) listeners. */
export interface IpcMainEvent extends IpcMainInvokeEvent {
  /**
   * Set this to answer a `sendSync`, now or later (after an `await`): the first assignment wins.
   * Reading it gives `undefined`, as in Electron. Assigning a value that cannot be cloned throws.
   */
  returnValue: any
  /** Sends to the renderer that sent this message; does nothing once it is destroyed. */
  reply(channel: string, ...args: any[]): void
  /** `[]` for messages sent with `ipcRenderer.postMessage`; absent otherwise, as in Electron. */
  ports: any[]
}

/** Passed to `ipcRenderer.on` listeners. */
export interface IpcRendererEvent {
  /** The `ipcRenderer` that received the message. */
  sender: IpcRenderer
  /** Always `[]`: MessagePorts are not transferred by ipc-main. */
  ports: any[]
}

/** The details of `render-process-gone`. */
export interface RenderProcessGoneDetails {
  reason: 'clean-exit' | 'abnormal-exit' | 'killed' | 'crashed' | 'oom' | 'launch-failed' | 'integrity-failure'
  exitCode: number
}

export declare class IpcMain extends EventEmitter {
  on(channel: string, listener: (event: IpcMainEvent, ...args: any[]) => void): this
  once(channel: string, listener: (event: IpcMainEvent, ...args: any[]) => void): this
  addListener(channel: string, listener: (event: IpcMainEvent, ...args: any[]) => void): this
  prependListener(channel: string, listener: (event: IpcMainEvent, ...args: any[]) => void): this
  prependOnceListener(channel: string, listener: (event: IpcMainEvent, ...args: any[]) => void): this
  off(channel: string, listener: (...args: any[]) => void): this
  removeListener(channel: string, listener: (...args: any[]) => void): this
  removeAllListeners(channel?: string): this
  /**
   * Handles `ipcRenderer.invoke(channel, ...)`: the renderer's promise resolves with the (awaited)
   * result, or rejects with "Error invoking remote method '<channel>': " + String(error).
   * Throws if the channel already has a handler.
   */
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => Promise<any> | any): void
  /** Like `handle`, for one invocation: the handler is removed before it runs. */
  handleOnce(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => Promise<any> | any): void
  /** Removes the channel's handler, if any. */
  removeHandler(channel: string): void
  /**
   * `ipcMain` only: listens (at `path`, or in a private directory only this user can enter) for
   * renderer processes this main did not start. Returns the same server when already listening.
   * It keeps the process alive while listening, like a `net.Server`, unless `unref()`'d.
   */
  listen(path?: string, options?: ListenOptions): IpcServer
  listen(options: ListenOptions): IpcServer
}

export interface ListenOptions {
  /** Largest frame accepted from a renderer, checked before anything is allocated. Default 512 MiB. */
  maxFrameSize?: number
}

/** What `ipcMain.listen()` returns. */
export declare class IpcServer extends EventEmitter {
  /** The socket's path. */
  readonly address: string
  /** The secret a process must present to connect (64 hex digits, random per server). */
  readonly token: string
  /** `{ IPC_MAIN_ADDRESS, IPC_MAIN_TOKEN }`: in a process's environment, it connects at load. */
  readonly env: { IPC_MAIN_ADDRESS: string; IPC_MAIN_TOKEN: string }
  readonly listening: boolean
  ref(): this
  unref(): this
  /** Stops listening and removes the socket; connected processes stay connected. */
  close(): this
  /** A process connected on its own: it is a renderer of this main from now on. */
  on(event: 'connection', listener: (contents: WebContents) => void): this
  /**
   * A connection was refused (another user, wrong token, wrong protocol version, no handshake in
   * time) or closed for a malformed frame. `err.code`: ERR_IPC_BAD_TOKEN, ERR_IPC_BAD_FRAME,
   * ERR_IPC_PROTOCOL, ERR_IPC_PEER_USER, ERR_IPC_HANDSHAKE_TIMEOUT. Without a listener, a process
   * warning is emitted instead.
   */
  on(event: 'connection-error', listener: (err: Error & { code: string; pid?: number }) => void): this
  on(event: 'close', listener: () => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

/** A renderer process's connection to its main (`connection`, or `ipcRenderer.connection` from `connect`). */
export declare class MainConnection extends EventEmitter {
  readonly address: string
  /** This renderer's `webContents.id` in main. */
  readonly rendererId: number
  readonly mainPid: number
  /**
   * Exit this process when main goes away, as an Electron renderer does. Default true for a
   * process main started (or whose environment names a main), false after `connect()`.
   */
  exitOnClose: boolean
  readonly closed: boolean
  /** Main went away: pending invokes were rejected and a blocked sendSync threw ERR_IPC_DISCONNECTED. */
  on(event: 'close', listener: () => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

export declare class IpcRenderer extends EventEmitter {
  on(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this
  once(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this
  addListener(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this
  prependListener(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this
  prependOnceListener(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this
  off(channel: string, listener: (...args: any[]) => void): this
  removeListener(channel: string, listener: (...args: any[]) => void): this
  removeAllListeners(channel?: string): this
  /** Sends to main, asynchronously: no listener runs inside this call. */
  send(channel: string, ...args: any[]): void
  /**
   * Sends to main and returns the `event.returnValue` a listener sets. Returns
   * `{ error: 'reply was never sent' }` when no answer can come.
   */
  sendSync(channel: string, ...args: any[]): any
  /** Calls main's handler for the channel and resolves with its result. */
  invoke(channel: string, ...args: any[]): Promise<any>
  /** Sends one message to main; its listeners get `event.ports` = `[]` and no `event.reply`. */
  postMessage(channel: string, message: any, transfer?: []): void
}

export declare class WebContents extends EventEmitter {
  /** Unique in the process; readable after destruction. */
  readonly id: number
  /** An `IpcMain` that sees only this renderer's messages. */
  readonly ipc: IpcMain
  /** Sends to the renderer, asynchronously, in order. Throws once the renderer is destroyed. */
  send(channel: string, ...args: any[]): void
  isDestroyed(): boolean
  /** Destroys the renderer: its `ipcRenderer` stops working, `destroyed` is emitted. */
  destroy(): void
  /** The OS process id of the renderer's process (this process's for in-process and worker renderers). */
  getOSProcessId(): number
  /**
   * The renderer's standard streams where they are piped to main, as on `Worker` and
   * `ChildProcess`: a worker's (`stdin` only with `stdin: true`), a forked process's with
   * `silent: true` or `stdio: 'pipe'` (read them, or the process blocks once a pipe is full).
   * Null otherwise.
   */
  readonly stdin: Writable | null
  readonly stdout: Readable | null
  readonly stderr: Readable | null

  on(event: 'ipc-message', listener: (event: IpcMainEvent, channel: string, ...args: any[]) => void): this
  on(event: 'ipc-message-sync', listener: (event: IpcMainEvent, channel: string, ...args: any[]) => void): this
  on(event: 'render-process-gone', listener: (event: { sender: WebContents; defaultPrevented: boolean; preventDefault(): void }, details: RenderProcessGoneDetails) => void): this
  on(event: 'destroyed', listener: () => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'ipc-message', listener: (event: IpcMainEvent, channel: string, ...args: any[]) => void): this
  once(event: 'ipc-message-sync', listener: (event: IpcMainEvent, channel: string, ...args: any[]) => void): this
  once(event: 'render-process-gone', listener: (event: { sender: WebContents; defaultPrevented: boolean; preventDefault(): void }, details: RenderProcessGoneDetails) => void): this
  once(event: 'destroyed', listener: () => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
}

/** A renderer made by `webContents.create()`: it runs in this thread. */
export interface InProcessWebContents extends WebContents {
  /** This renderer's side: sends to this process's `ipcMain`. */
  readonly ipcRenderer: IpcRenderer
}

export interface WebContentsModule {
  /** Makes a renderer that runs in this thread, with its own `ipcRenderer`. */
  create(): InProcessWebContents
  /**
   * Runs `modulePath` in a worker thread as a renderer: there, `require('ipc-main').ipcRenderer`
   * talks to this main side and its `sendSync` really blocks. `options` are `new Worker`'s (except
   * `env: SHARE_ENV`). Returns at once; messages sent before the worker has started are delivered,
   * in order, once it has.
   */
  worker(modulePath: string | URL, options?: WorkerOptions): WebContents
  /**
   * Runs `modulePath` in a child process as a renderer (arguments and options as
   * `child_process.fork`): there, `require('ipc-main').ipcRenderer` is connected to this main over a
   * local socket, and its `sendSync` blocks that process until main answers. Returns at once;
   * messages sent before it has connected are delivered, in order, once it has.
   */
  fork(modulePath: string, args?: readonly string[], options?: ForkOptions): WebContents
  fork(modulePath: string, options?: ForkOptions): WebContents
  /** Every live WebContents of this main side, oldest first. */
  getAllWebContents(): WebContents[]
  fromId(id: number): WebContents | undefined
}

/** The main side of this module instance. Starts with one no-op `'error'` listener, as Electron's. */
export declare const ipcMain: IpcMain
/**
 * The renderer side: in a renderer started by `webContents.worker`/`fork`, connected to its
 * parent; otherwise this process's own in-process renderer, made on first use.
 */
export declare const ipcRenderer: IpcRenderer
export declare const webContents: WebContentsModule
/**
 * Connects this thread, as a renderer, to a main that called `ipcMain.listen()` (given its
 * `address` and `token`), and returns that renderer's `IpcRenderer` (with a `connection`).
 * Synchronous: `sendSync` works on the next line. Throws ERR_IPC_CONNECT, ERR_IPC_BAD_TOKEN, ….
 */
export declare function connect(
  address: string,
  token: string,
  options?: { exitOnClose?: boolean; maxFrameSize?: number },
): IpcRenderer & { readonly connection: MainConnection }
/** In a renderer process (forked, or whose environment names a main): its connection to main; otherwise null. */
export declare const connection: MainConnection | null
/**
 * Back to a fresh state, for tests: destroys every WebContents made here, removes every ipcMain
 * listener and handler (the no-op `'error'` listener is put back) and the default ipcRenderer's
 * listeners; the default renderer is made again on its next use.
 */
export declare function reset(): void

/** What the core holds for this main side right now. */
export interface Diagnostics {
  /** `sendSync` and `invoke` requests still owed an answer. */
  pendingRequests: number
  /** Messages queued for this thread and not yet dispatched. */
  queuedMessages: number
  /** Live WebContents of this main side. */
  webContents: number
  /**
   * Connections to other processes that this thread reads on its own event loop (main side: one
   * per connected renderer process; renderer process: its connection to main).
   */
  polledConnections: number
}

/** For tests and debugging, e.g. asserting that nothing is left pending after a renderer died. */
export declare function diagnostics(): Diagnostics
