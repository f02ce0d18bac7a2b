'use strict'
// The event objects listeners receive, shaped as Electron's:
// - IpcMainEvent: `send` messages (reply, no returnValue, no ports);
// - IpcMainSyncEvent: `sendSync` messages (reply and the set-only returnValue);
// - IpcMainPostEvent: `postMessage` messages (ports = [], no reply);
// - IpcMainInvokeEvent: `invoke` requests (none of them).

class IpcMainInvokeEvent {
  constructor(sender) {
    this.type = 'frame'
    this.sender = sender
    this.processId = sender._processId
    this.frameId = 1
    this.defaultPrevented = false
  }

  preventDefault() {
    this.defaultPrevented = true
  }
}

class IpcMainPostEvent extends IpcMainInvokeEvent {
  constructor(sender) {
    super(sender)
    this.ports = []
  }
}

class IpcMainEvent extends IpcMainInvokeEvent {
  // `reply` targets the frame that sent the message and, unlike `sender.send`, does nothing
  // once that frame is gone.
  reply(channel, ...args) {
    if (!this.sender.isDestroyed()) this.sender.send(channel, ...args)
  }
}

class IpcMainSyncEvent extends IpcMainEvent {
  #ctx
  #request
  #answered = false

  #sender

  constructor(sender, ctx, request) {
    super(sender)
    this.#ctx = ctx
    this.#request = request
    this.#sender = sender
  }

  // Set-only, as in Electron: reading gives undefined. Every assignment is offered to the core,
  // which keeps the first; a value that cannot be cloned throws here and answers nothing.
  set returnValue(value) {
    this.#ctx.answerSync(this.#request, value, this.#sender)
    this.#answered = true
  }

  get returnValue() {
    return undefined
  }

  /** Whether a listener assigned returnValue (successfully) during or after dispatch. */
  static answered(event) {
    return event.#answered
  }
}

// `returnValue` is listed like a field of the event, as Electron's own accessor is.
Object.defineProperty(IpcMainSyncEvent.prototype, 'returnValue', { enumerable: true })

module.exports = { IpcMainEvent, IpcMainSyncEvent, IpcMainPostEvent, IpcMainInvokeEvent }
