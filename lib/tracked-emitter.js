'use strict'
// An EventEmitter that tells the core which of its events have listeners, so the core can route
// each message (and answer a sendSync nobody listens to) without asking JS.
// Every way of adding or removing a listener ends in one of the overrides below: Node's `once`
// wrapper removes itself through `this.removeListener`, and `events.once`/`events.on` use
// `on`/`once`/`removeListener` too.

const { EventEmitter } = require('events')

// Bumped whenever any tracked emitter gains or loses a listener: dispatch remembers which
// emitters of a chain listen on a channel for as long as this has not moved. Bumped before the
// change as well as after (in `_track`): 'newListener' and 'removeListener' listeners run in
// between, and may dispatch.
let generation = 0

function listenerGeneration() {
  return generation
}

class TrackedEmitter extends EventEmitter {
  // Subclasses call `_startTracking(report)` once constructed: `report(name, listening)`.
  _startTracking(report) {
    Object.defineProperty(this, '_report', { value: report, writable: true })
  }

  _track(name) {
    generation++
    if (typeof name === 'string' && this._report !== undefined) {
      this._report(name, this.listenerCount(name) > 0)
    }
  }

  on(name, listener) {
    generation++
    super.on(name, listener)
    this._track(name)
    return this
  }

  addListener(name, listener) {
    return this.on(name, listener)
  }

  prependListener(name, listener) {
    generation++
    super.prependListener(name, listener)
    this._track(name)
    return this
  }

  once(name, listener) {
    generation++
    super.once(name, listener)
    this._track(name)
    return this
  }

  prependOnceListener(name, listener) {
    generation++
    super.prependOnceListener(name, listener)
    this._track(name)
    return this
  }

  removeListener(name, listener) {
    generation++
    super.removeListener(name, listener)
    this._track(name)
    return this
  }

  off(name, listener) {
    return this.removeListener(name, listener)
  }

  removeAllListeners(name) {
    generation++
    if (arguments.length === 0) {
      const names = this.eventNames()
      super.removeAllListeners()
      for (const n of names) this._track(n)
    } else {
      super.removeAllListeners(name)
      this._track(name)
    }
    return this
  }
}

module.exports = { TrackedEmitter, listenerGeneration }
