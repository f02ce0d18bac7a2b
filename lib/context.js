'use strict'
// One module instance's end of the core: the native endpoint (this thread's mailbox and the
// main side hosted here), the dispatch of what the core routes to this thread, and the
// scheduling of drains. Routing itself happens in the core: the route bits of each message say
// which emitters get it, and requests nobody can take were already answered there.

const { setImmediate } = require('timers')
const clone = require('./clone')
const native = require('./native')
const { IpcMainEvent, IpcMainSyncEvent, IpcMainPostEvent, IpcMainInvokeEvent } = require('./events')
const { listenerGeneration } = require('./tracked-emitter')

const { binding, Kind, Status, Route, RendererKind, HEADER_BYTES, NONE, LARGE, DONE, DRAINED, COUNT, STATUS_BASE } = native

const SCRATCH_BYTES = 64 * 1024
const BATCH_BYTES = 256 * 1024
// Messages handled per drain before yielding to the event loop (I/O, timers) for a turn.
const DRAIN_BUDGET = 10000
// Drains run as promise jobs (fast, and immune to jest's fake timers); after this many in one
// event-loop turn the next one goes through setImmediate so a ping-pong cannot starve I/O.
const MICROTASK_DRAINS_PER_TURN = 1000
// In-process sends wait in the outbox (src/core/outbox.rs) until this thread next calls into
// the core: one native call per batch instead of one per message. Bigger payloads go on their
// own (and large ones are taken over without a copy).
const OUTBOX_BYTES = 64 * 1024
const OUTBOX_ENTRY_HEADER = 16
const STAGE_LIMIT = 4096
// Memory of full outboxes kept for the next burst.
const SPARE_OUTBOXES = 4
// An in-process invoke answered with no more than this is settled without a reply message.
const SETTLE_HERE_LIMIT = 64 * 1024

// Where a renderer's message is emitted: 'ipc-message(-sync)' on its WebContents (not for
// postMessage), then its webContents.ipc, then ipcMain.
const CHAIN = Route.CONTENTS_EVENT | Route.CONTENTS_IPC | Route.MAIN
const POST_CHAIN = Route.CONTENTS_IPC | Route.MAIN

const resolved = Promise.resolve()
const NEVER_SENT = { error: 'reply was never sent' }
const EMPTY = Buffer.alloc(0)

// Errors thrown by listeners surface as uncaught exceptions, as they would in Electron's main
// process, without losing the messages queued behind them.
function reportUncaught(err) {
  setImmediate(() => {
    throw err
  })
}

function errorText(err) {
  try {
    return String(err)
  } catch {
    return Object.prototype.toString.call(err)
  }
}

class Context {
  constructor() {
    this.endpoint = new binding.NativeEndpoint()
    /** The endpoint's id: the first argument of every per-message native call. */
    this.id = this.endpoint.id
    // Renderers in other threads that may wake this one; the wake signal exists only meanwhile.
    this.remotePeers = 0
    const memory = new ArrayBuffer(SCRATCH_BYTES)
    this.scratch = Buffer.from(memory)
    this.head = new Uint32Array(memory, 0, HEADER_BYTES / 4)
    /** WebContents of the main side hosted here, by id. */
    this.contents = new Map()
    /** IpcRenderer objects whose JS runs on this thread, by renderer id. */
    this.renderers = new Map()
    /** invoke() promises of those renderers, by request id. */
    this.invokes = new Map()
    /** Set by index.js: the ipcMain of the main side hosted here. */
    this.ipcMain = null
    /** The IpcServer renderer processes connect to, once started (lib/server.js). */
    this.server = null
    /** Renderer processes of this main not yet gone, by id: how to handle their news. */
    this.procs = new Map()
    /** Connections of renderers hosted here to mains in other processes, by renderer id. */
    this.connections = new Map()
    // Renderer side (workers, processes): the thread stays alive while its renderer listens or
    // awaits an invoke. Main side: while it listens (ref'd) or processes are connected to it.
    this.holdsLoop = false
    this.hubHolds = 0
    this.keepAlive = false
    /** What to do with the core's control messages; set by the modules that own them. */
    this.onControl = {
      connected() {},
      rendererGone() {},
      mainGone() {},
    }
    // Batches handed over by `next` land here, apart from the scratch buffer that a nested
    // sendSync (from inside a listener) uses, so they are never overwritten mid-dispatch.
    const batchMemory = new ArrayBuffer(BATCH_BYTES)
    this.batch = Buffer.from(batchMemory)
    this.batchHead = new Uint32Array(batchMemory)
    this.batchLeft = 0
    this.batchOffset = 0
    const outboxMemory = new ArrayBuffer(OUTBOX_BYTES)
    this.outbox = new Uint8Array(outboxMemory)
    this.outboxWords = new Uint32Array(outboxMemory)
    this.outboxLength = 0
    // Outboxes that filled up before a drain (flat pairs: bytes, length), oldest first.
    this.fullOutboxes = []
    this.spareOutboxes = []
    this.flushesAtExit = false
    this.listeningMemo = { sender: null, channel: '', kind: 0, generation: -1, bits: 0 }
    this.scheduled = false
    this.microDrains = 0
    this.turnArmed = false
    this.drainTask = () => {
      this.scheduled = false
      this.drain()
    }
    this.endTurn = () => {
      this.turnArmed = false
      this.microDrains = 0
    }
    this.finalizer = new FinalizationRegistry(held => this.collected(held))
    this.unrefArmed = false
    this.unrefLater = () => {
      this.unrefArmed = false
      if (this.keepAlive && !this.wantsRef()) {
        this.keepAlive = false
        this.endpoint.setRef(false)
      }
    }
  }

  /** What the core holds for this main side: requests owed an answer, messages not yet dispatched. */
  diagnostics() {
    this.flush()
    return {
      pendingRequests: binding.pending(this.id),
      queuedMessages: binding.queued(this.id),
      webContents: this.contents.size,
      polledConnections: this.endpoint.polledConnections(),
    }
  }

  // ---- wake-ups from other threads ------------------------------------------------------------

  /** A renderer in another thread appeared: let its messages wake this thread. */
  addRemotePeer() {
    if (this.remotePeers++ === 0) {
      if (this.endpoint.enableWake(() => this.drain())) this.schedule()
      if (this.keepAlive) this.endpoint.setRef(true)
    }
  }

  /** It is gone: without any left, drop the wake signal (it is an open handle to jest). */
  removeRemotePeer() {
    // Messages that arrived while the signal went away are drained all the same.
    if (--this.remotePeers === 0 && this.endpoint.disableWake()) this.schedule()
  }

  /** Main side: one more (or one less) reason to keep this thread alive. */
  holdHub(delta) {
    this.hubHolds += delta
    this.updateRef()
  }

  // ---- the outbox ------------------------------------------------------------------------

  /**
   * Queues a one-way message of a renderer of this thread (in-process, or this renderer
   * process's). False if its payload is too big to stage: the caller sends it on its own, after
   * calling flush(). `handOverWhenFull`: a full outbox goes to the core at once rather than
   * waiting for the drain (a renderer process's main reads it elsewhere, whatever this thread
   * does next).
   */
  stage(renderer, kind, channel, bytes, handOverWhenFull = false) {
    const len = bytes.length
    if (len > STAGE_LIMIT) return false
    let at = this.outboxLength
    if (at + OUTBOX_ENTRY_HEADER + len > OUTBOX_BYTES) {
      if (handOverWhenFull) this.flush()
      else this.rotate()
      at = 0
    }
    // The drain hands the outbox over before it reads the mailbox.
    if (at === 0) this.schedule()
    const words = this.outboxWords
    const h = at >>> 2
    words[h] = renderer
    words[h + 1] = kind
    words[h + 2] = channel
    words[h + 3] = len
    this.outbox.set(bytes, at + OUTBOX_ENTRY_HEADER)
    this.outboxLength = (at + OUTBOX_ENTRY_HEADER + len + 3) & ~3
    return true
  }

  /**
   * A full outbox waits as it is for the drain (which the core may copy straight into a batch),
   * and staging goes on in a fresh one. Staged messages are held either way: here, or in the
   * mailbox as one envelope each.
   */
  rotate() {
    this.fullOutboxes.push(this.outbox, this.outboxLength)
    const memory = this.spareOutboxes.pop() ?? new ArrayBuffer(OUTBOX_BYTES)
    this.outbox = new Uint8Array(memory)
    this.outboxWords = new Uint32Array(memory)
    this.outboxLength = 0
  }

  /**
   * Takes the oldest staged outbox out and hands it to the core: into `batch` (`nextStaged`,
   * which returns as `next`), or, with none, routed (`sendStaged`: true if a drain must be
   * scheduled). A full outbox's memory is kept for reuse: the core copied what it held.
   */
  handOldest(batch) {
    const full = this.fullOutboxes
    let outbox = this.outbox
    let len
    if (full.length === 0) {
      len = this.outboxLength
      this.outboxLength = 0
    } else {
      outbox = full.shift()
      len = full.shift()
    }
    try {
      return batch === null ? binding.sendStaged(this.id, outbox, len) : binding.nextStaged(this.id, batch, outbox, len)
    } catch (err) {
      this.schedule()
      throw native.wrap(err)
    } finally {
      if (outbox !== this.outbox && this.spareOutboxes.length < SPARE_OUTBOXES) this.spareOutboxes.push(outbox.buffer)
    }
  }

  /**
   * Hands everything staged to the core. Called before anything else this thread asks of the
   * core, so the core sees every message in the order it was sent. True if a drain must be
   * scheduled.
   */
  handOver() {
    let wake = false
    while (this.outboxLength !== 0) if (this.handOldest(null)) wake = true
    return wake
  }

  flush() {
    if (this.outboxLength !== 0 && this.handOver()) this.schedule()
  }

  /** At exit: what is staged goes to the core (which writes it out), errors and all ignored. */
  flushAtExit() {
    try {
      this.handOver()
    } catch {
      // the connection or the renderer is gone already: nothing to deliver to
    }
  }

  /**
   * `binding.next`, after what is staged. A drain hands the oldest outbox over in the same call,
   * and when nothing older waits, the core writes its messages for this thread straight into
   * the batch (a whole outbox always fits in one).
   */
  next(bytes, request) {
    if (this.outboxLength === 0) return binding.next(this.id, bytes, request)
    if (request !== 0) {
      this.handOver()
      return binding.next(this.id, bytes, request)
    }
    let n
    do {
      n = this.handOldest(bytes)
      // Nothing to read from that outbox (its messages went elsewhere, or their renderers were
      // gone) and none in the mailbox: the next outbox, if any, may still have some.
    } while (n === NONE && this.outboxLength !== 0)
    // More is staged: the drain is not over, whatever the mailbox says.
    if (n >= 0 && this.outboxLength !== 0) n &= ~DRAINED
    return n
  }

  // ---- scheduling ------------------------------------------------------------------------

  /** Makes sure a drain of this thread's mailbox runs soon (never inside the current call). */
  schedule() {
    if (this.scheduled) return
    this.scheduled = true
    if (this.microDrains++ < MICROTASK_DRAINS_PER_TURN) {
      if (!this.turnArmed) {
        this.turnArmed = true
        setImmediate(this.endTurn)
      }
      resolved.then(this.drainTask)
    } else {
      setImmediate(this.drainTask)
    }
  }

  /** Continues draining after the event loop had a turn. */
  yieldThenDrain() {
    this.scheduled = true
    setImmediate(this.drainTask)
  }

  drain() {
    // Never nested (drains start from the event loop), but a throwing listener leaves the rest
    // of its batch here for the next drain.
    for (let budget = DRAIN_BUDGET; budget > 0; ) {
      if (this.batchLeft === 0) {
        const n = this.next(this.batch, 0)
        if (n === NONE) return
        if (n === LARGE) {
          this.dispatchLarge(this.batch, this.batchHead)
          budget--
          continue
        }
        this.batchLeft = n & COUNT
        this.batchOffset = 0
        budget -= this.batchLeft
        if (!this.dispatchBatch()) return
        // The mailbox went idle with this batch: what comes next schedules its own drain.
        if (n & DRAINED) return
        continue
      }
      budget -= this.batchLeft
      if (!this.dispatchBatch()) return
    }
    this.yieldThenDrain()
  }

  /** Dispatches what is left of the current batch. False if a listener threw (reported). */
  dispatchBatch() {
    const bytes = this.batch
    const head = this.batchHead
    while (this.batchLeft > 0) {
      const offset = this.batchOffset
      const len = head[(offset >>> 2) + 5]
      // Step past the entry first: whatever its listeners do, it is not dispatched twice.
      this.batchOffset = (offset + HEADER_BYTES + len + 7) & ~7
      this.batchLeft--
      try {
        this.dispatch(bytes, head, offset, offset + HEADER_BYTES, offset + HEADER_BYTES + len, false)
      } catch (err) {
        this.yieldThenDrain()
        reportUncaught(err)
        return false
      }
    }
    return true
  }

  dispatchLarge(bytes, head) {
    const payload = binding.takeLarge()
    try {
      this.dispatch(payload, head, 0, 0, payload.length, true)
    } catch (err) {
      this.yieldThenDrain()
      reportUncaught(err)
    }
  }

  /** Dispatches everything queued now, without a budget (a renderer is about to be declared gone). */
  drainAll() {
    for (;;) {
      if (this.batchLeft > 0) {
        this.dispatchBatch()
        continue
      }
      const n = this.next(this.batch, 0)
      if (n === NONE) return
      if (n === LARGE) this.dispatchLarge(this.batch, this.batchHead)
      else {
        this.batchLeft = n & COUNT
        this.batchOffset = 0
      }
    }
  }

  /** Dispatches main-bound messages until in-process sendSync `request` has been dispatched. */
  pumpUntil(request) {
    // Main-bound messages already handed over in the current batch came before this request:
    // dispatch them first (a batch holds messages of one direction only).
    if (this.batchLeft > 0 && (this.batchHead[this.batchOffset >>> 2] & 0xff) <= Kind.INVOKE) {
      // All of them, even if a listener throws (reported) on more than one.
      while (this.batchLeft > 0) this.dispatchBatch()
    }
    const bytes = this.scratch
    const head = this.head
    for (;;) {
      const n = this.next(bytes, request)
      if (n === DONE || n === NONE) return
      try {
        if (n === LARGE) {
          const payload = binding.takeLarge()
          this.dispatch(payload, head, 0, 0, payload.length, true)
        } else {
          this.dispatch(bytes, head, 0, HEADER_BYTES, HEADER_BYTES + head[5], false)
        }
      } catch (err) {
        reportUncaught(err)
      }
    }
  }

  // ---- dispatch ------------------------------------------------------------------------------

  /**
   * Dispatches one message: its header at `head[at / 4 ...]`, its payload `bytes[start, end)`
   * (`owned`: a fresh buffer the decoded value may keep).
   */
  dispatch(bytes, head, at, start, end, owned) {
    const h = at >>> 2
    const word = head[h]
    const kind = word & 0xff
    if (word >>> 24) this.schedule()
    const renderer = head[h + 1]
    const channel = native.channelName(head[h + 2])
    const request = head[h + 3] + head[h + 4] * 0x100000000
    if (kind >= Kind.CONNECTED) {
      this.control(kind, renderer, bytes.toString('utf8', start, end))
    } else if (kind === Kind.MESSAGE) {
      this.deliverMessage(renderer, channel, clone.deserialize(bytes, start, end, owned))
    } else if (kind === Kind.INVOKE_REPLY) {
      this.settleLocalInvoke(request, (word >>> 8) & 0xff, channel, bytes, start, end, owned)
    } else {
      const sender = this.contents.get(renderer)
      if (sender === undefined) return
      const route = (word >>> 16) & 0xff
      if (kind === Kind.INVOKE) {
        this.runHandler(sender, route, channel, request, bytes, start, end, owned)
      } else {
        this.emitToMain(sender, kind, route, channel, request, bytes, start, end, owned)
      }
    }
  }

  emitToMain(sender, kind, route, channel, request, bytes, start, end, owned) {
    if (route & Route.UNANSWERED) {
      console.warn(
        `WebContents #${sender.id} called ipcRenderer.sendSync() with '${channel}' channel without listeners.`,
      )
      return
    }
    let args
    try {
      args = clone.deserialize(bytes, start, end, owned)
    } catch (err) {
      // Only a process speaking the wire protocol can send bytes our encoder never makes: end
      // that renderer (as Electron does with a bad IPC message), not main.
      this.badMessage(sender, channel, err)
      return
    }
    let event
    if (kind === Kind.SEND) event = new IpcMainEvent(sender)
    else if (kind === Kind.POST) event = new IpcMainPostEvent(sender)
    else event = new IpcMainSyncEvent(sender, this, request)
    // The emitters of the chain that listen now, asked before each emit: as in Electron, a
    // listener may add or remove listeners further down the chain for this very message.
    const chain = kind === Kind.POST ? POST_CHAIN : CHAIN
    try {
      if (chain & this.listeningOn(sender, kind, channel) & Route.CONTENTS_EVENT) {
        sender.emit(kind === Kind.SYNC ? 'ipc-message-sync' : 'ipc-message', event, channel, ...args)
      }
      if (chain & this.listeningOn(sender, kind, channel) & Route.CONTENTS_IPC) {
        emitChannel(sender.ipc, channel, event, args)
      }
      if (chain & this.listeningOn(sender, kind, channel) & Route.MAIN) emitChannel(this.ipcMain, channel, event, args)
    } finally {
      if (kind === Kind.SYNC) this.afterSync(sender, channel, request, event)
    }
  }

  /**
   * The route bits of the emitters of `sender`'s chain that have a listener for `channel` (as a
   * message of `kind`). A burst repeats one sender and channel: the answer is kept until a
   * listener comes or goes anywhere.
   */
  listeningOn(sender, kind, channel) {
    const memo = this.listeningMemo
    const generation = listenerGeneration()
    if (memo.sender === sender && memo.channel === channel && memo.kind === kind && memo.generation === generation) {
      return memo.bits
    }
    let bits = 0
    if (sender.listenerCount(kind === Kind.SYNC ? 'ipc-message-sync' : 'ipc-message') > 0) bits |= Route.CONTENTS_EVENT
    if (sender.ipc.listenerCount(channel) > 0) bits |= Route.CONTENTS_IPC
    if (this.ipcMain.listenerCount(channel) > 0) bits |= Route.MAIN
    memo.sender = sender
    memo.channel = channel
    memo.kind = kind
    memo.generation = generation
    memo.bits = bits
    return bits
  }

  /** `wc` is destroyed: let go of it. */
  forget(wc) {
    if (this.listeningMemo.sender === wc) this.listeningMemo.sender = null
  }

  /** A renderer sent a payload that is not a structured clone: report it, and destroy it. */
  badMessage(sender, channel, err) {
    this.reportConnectionError({
      code: err.code ?? 'ERR_IPC_BAD_PAYLOAD',
      message: `${err.message} (channel '${channel}', WebContents #${sender.id})`,
      pid: sender._processId,
    })
    sender.destroy()
  }

  /**
   * A connection was refused or broke: the server's 'connection-error' listeners hear of it, or,
   * when there are none (or the server was closed, its connections still open), a warning.
   */
  reportConnectionError(details) {
    const err = native.ipcError(`${details.message}`, details.code)
    if (details.pid !== undefined && details.pid !== null) err.pid = details.pid
    const server = this.server
    if (server !== null && server.listenerCount('connection-error') > 0) server.emit('connection-error', err)
    else process.emitWarning(`ipc-main refused or closed a connection: ${err.message}`, { code: err.code })
  }

  answerSync(request, value, sender) {
    // Spliced for a renderer process only (see WebContents#send).
    const bytes = clone.serialize(value, sender._kind === RendererKind.PROCESS)
    const splices = clone.takeSplices()
    this.flush()
    binding.replySync(this.id, request, Status.OK, bytes, splices)
  }

  afterSync(sender, channel, request, event) {
    if (sender._kind === RendererKind.IN_PROCESS) {
      // 0: dispatched without an answer (-1: its renderer was destroyed meanwhile, no warning).
      if (binding.closeInline(request) === 0) {
        console.warn(
          `WebContents #${sender.id} called ipcRenderer.sendSync() with '${channel}' channel, but no ` +
            'listener set event.returnValue before returning. An in-process renderer cannot wait for a ' +
            'later reply: set returnValue synchronously, use ipcRenderer.invoke(), or run the renderer ' +
            'in a worker (webContents.worker) where sendSync really blocks.',
        )
      }
    } else if (IpcMainSyncEvent.answered(event)) {
      // A renderer that was just answered often asks again at once.
      this.endpoint.expectSoon()
    } else {
      // As in Electron: if the event is collected unanswered, the renderer gets "reply was never
      // sent". (Registering costs ~0.3 µs, so only events still owed an answer are watched.)
      this.finalizer.register(event, { sync: request })
    }
  }

  runHandler(sender, route, channel, request, bytes, start, end, owned) {
    if (route & Route.UNANSWERED) {
      console.error(`Error occurred in handler for '${channel}':`, new Error(`No handler registered for '${channel}'`))
      return
    }
    const owner = route & Route.HANDLER_CONTENTS ? sender.ipc : this.ipcMain
    const handler = owner._invokeHandlers.get(channel)
    const event = new IpcMainInvokeEvent(sender)
    let result
    try {
      const args = clone.deserialize(bytes, start, end, owned)
      result = handler(event, ...args)
    } catch (err) {
      this.handlerFailed(request, channel, err, sender)
      return
    }
    let then
    try {
      then = result !== null && (typeof result === 'object' || typeof result === 'function') ? result.then : undefined
    } catch (err) {
      this.handlerFailed(request, channel, err, sender)
      return
    }
    if (typeof then !== 'function') {
      this.handlerDone(request, channel, result, sender)
      return
    }
    // The callbacks hold the event, so it lives as long as the handler's promise can settle;
    // if that promise is dropped unsettled, the event is collected: "reply was never sent".
    this.finalizer.register(event, { invoke: request })
    Promise.resolve(result).then(
      value => this.handlerDone(request, channel, value, event.sender),
      err => this.handlerFailed(request, channel, err, event.sender),
    )
  }

  handlerDone(request, channel, value, sender) {
    let bytes
    try {
      bytes = clone.serialize(value, sender._kind === RendererKind.PROCESS)
    } catch (err) {
      this.handlerFailed(request, channel, err, sender)
      return
    }
    const splices = clone.takeSplices()
    this.flush()
    // Nothing queued ahead of the answer, in the core or in the batch a throwing listener left
    // here: the waiting promise takes it from here. (Not a large answer: sent, its memory is
    // taken over and given back at once, rather than when the collector gets to it.)
    if (
      sender._kind === RendererKind.IN_PROCESS &&
      this.batchLeft === 0 &&
      splices === null &&
      bytes.length <= SETTLE_HERE_LIMIT
    ) {
      const mine = binding.settleHere(this.id, request)
      if (mine !== 0) {
        this.settleLocalInvoke(mine, Status.OK, channel, bytes, 0, bytes.length, false)
        return
      }
    }
    if (binding.settleInvoke(this.id, request, Status.OK, bytes, splices)) this.schedule()
    this.answered(sender)
  }

  handlerFailed(request, channel, err, sender) {
    console.error(`Error occurred in handler for '${channel}':`, err)
    const text = Buffer.from(errorText(err))
    this.flush()
    if (binding.settleInvoke(this.id, request, Status.HANDLER_ERROR, text)) this.schedule()
    this.answered(sender)
  }

  /** An invoke of `sender` was answered: one in another thread or process may ask again soon. */
  answered(sender) {
    if (sender._kind !== RendererKind.IN_PROCESS) this.endpoint.expectSoon()
  }

  collected(held) {
    this.flush()
    if (held.sync !== undefined) {
      binding.replySync(this.id, held.sync, Status.NEVER_SENT, EMPTY)
    } else if (binding.settleInvoke(this.id, held.invoke, Status.NEVER_SENT, EMPTY)) {
      this.schedule()
    }
  }

  /** The core's news about connections to other processes. */
  control(kind, renderer, json) {
    const details = json === '' ? {} : JSON.parse(json)
    if (kind === Kind.CONNECTED) {
      // From now on this thread reads the new connection itself (no reader thread to wake).
      this.endpoint.adoptConnections()
      this.onControl.connected(renderer, details)
    } else if (kind === Kind.DIAGNOSTIC) this.reportConnectionError(details)
    // Gone: of a renderer hosted here (its main is gone), or of a renderer of this main.
    else if (this.renderers.has(renderer)) this.onControl.mainGone(renderer, details)
    else this.onControl.rendererGone(renderer, details)
  }

  // ---- renderer side -----------------------------------------------------------------------

  deliverMessage(renderer, channel, args) {
    const target = this.renderers.get(renderer)
    if (target === undefined) return
    target.emit(channel, { sender: target, ports: [] }, ...args)
  }

  /** Registers an invoke() of a renderer on this thread and returns its promise. */
  awaitInvoke(request, channel) {
    return new Promise((resolve, reject) => {
      this.invokes.set(request, { resolve, reject, channel })
      this.updateRef()
    })
  }

  settleLocalInvoke(request, status, channel, bytes, start, end, owned) {
    const waiting = this.invokes.get(request)
    if (waiting === undefined) return
    this.invokes.delete(request)
    this.updateRef()
    if (status === Status.OK) {
      let value
      try {
        value = clone.deserialize(bytes, start, end, owned)
      } catch (err) {
        waiting.reject(err)
        return
      }
      waiting.resolve(value)
      return
    }
    const text = bytes.toString('utf8', start, end)
    // Electron resolves when the handler threw something whose text is empty.
    if (status === Status.HANDLER_ERROR && text === '') waiting.resolve(undefined)
    else waiting.reject(invokeError(status, channel, text))
  }

  /** Decodes the result of takeInline/syncBlocking. */
  readReply(n) {
    if (n >= 0) return clone.deserialize(this.scratch, HEADER_BYTES, HEADER_BYTES + n, false)
    if (n === LARGE) {
      const bytes = binding.takeLarge()
      return clone.deserialize(bytes, 0, bytes.length, true)
    }
    const status = STATUS_BASE - n
    if (status === Status.CONTEXT_RELEASED) {
      throw native.ipcError('IPC method called after context was released', 'ERR_IPC_CONTEXT_RELEASED')
    }
    if (status === Status.DISCONNECTED) throw disconnected()
    // Electron's answer when no reply will come: returned, not thrown. A fresh object each time.
    return { ...NEVER_SENT }
  }

  /** Whether this thread's event loop must stay alive for the core's sake. */
  wantsRef() {
    if (this.hubHolds > 0) return true
    if (!this.holdsLoop) return false
    if (this.invokes.size > 0) return true
    for (const r of this.renderers.values()) if (r.eventNames().length > 0) return true
    return false
  }

  /**
   * Workers: hold the thread's event loop while replies or messages are awaited. Letting go
   * waits for the end of the loop turn: a renderer that awaits invoke after invoke would
   * otherwise ref and unref the wake-up handle on every call (two native calls each time).
   */
  updateRef() {
    const want = this.wantsRef()
    if (want && !this.keepAlive) {
      this.keepAlive = true
      this.endpoint.setRef(true)
    } else if (!want && this.keepAlive && !this.unrefArmed) {
      this.unrefArmed = true
      setImmediate(this.unrefLater)
    }
  }
}

/**
 * Emits a renderer's message on one emitter of the chain, one that listens on the channel
 * (so a message on channel 'error' that nobody listens to is ignored, where EventEmitter would
 * throw: Electron's no-op 'error' listener exists for that, but may have been removed).
 */
function emitChannel(emitter, channel, event, args) {
  // Asked once more for 'error', whatever the memo says: emitting it unheard would throw.
  if (channel === 'error' && emitter.listenerCount('error') === 0) return
  // A call with one argument spread costs more than the argument itself.
  if (args.length === 1) emitter.emit(channel, event, args[0])
  else emitter.emit(channel, event, ...args)
}

function disconnected() {
  return native.ipcError('The main process is gone: the IPC connection was closed', 'ERR_IPC_DISCONNECTED')
}

function invokeError(status, channel, text) {
  const prefix = `Error invoking remote method '${channel}': `
  switch (status) {
    case Status.HANDLER_ERROR:
      return native.ipcError(prefix + text, 'ERR_IPC_HANDLER_ERROR')
    case Status.NO_HANDLER:
      return native.ipcError(prefix + text, 'ERR_IPC_NO_HANDLER')
    case Status.NEVER_SENT:
      return native.ipcError(prefix + 'reply was never sent', 'ERR_IPC_REPLY_NEVER_SENT')
    case Status.CONTEXT_RELEASED:
      return native.ipcError('IPC method called after context was released', 'ERR_IPC_CONTEXT_RELEASED')
    default:
      return disconnected()
  }
}

module.exports = { Context, reportUncaught }
