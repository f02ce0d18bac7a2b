'use strict'
// The writing end of a worker renderer's send ring (src/core/ring.rs, which has the layout):
// one-way messages go into memory the core reads from main's thread, without a call into the
// addon; the core is called only to wake main when it had gone idle.

const CONTROL_BYTES = 192
// Int32 indexes of the control words (bytes 0, 64 and 128: one cache line each).
const TAIL = 0
const HEAD = 16
const IDLE = 32
const ENTRY_HEADER = 16
const PAD = 0xff
// `idle` once nobody reads the ring (its renderer or main side is gone).
const CLOSED = 2

const NO_ROOM = 0
const WRITTEN = 1
const WAKE_MAIN = 2

class RingWriter {
  constructor(memory) {
    this.control = new Int32Array(memory, 0, CONTROL_BYTES / 4)
    this.bytes = new Uint8Array(memory, CONTROL_BYTES)
    this.words = new Uint32Array(memory, CONTROL_BYTES)
    this.capacity = this.bytes.length
    this.mask = this.capacity - 1
    this.tail = Atomics.load(this.control, TAIL) >>> 0
    // What the consumer had taken when last looked at: room is asked for only when short.
    this.head = Atomics.load(this.control, HEAD) >>> 0
  }

  /** Writes one message: NO_ROOM (send it another way), WRITTEN, or WAKE_MAIN (written; wake main). */
  write(kind, channel, bytes) {
    // Through the core instead, which tells why it cannot be sent.
    if (Atomics.load(this.control, IDLE) === CLOSED) return NO_ROOM
    const len = bytes.length
    const total = (ENTRY_HEADER + len + 15) & ~15
    let tail = this.tail
    let at = tail & this.mask
    const toEnd = this.capacity - at
    // An entry never wraps: the end of the buffer is padded first.
    const need = total > toEnd ? total + toEnd : total
    if (((tail - this.head) >>> 0) + need > this.capacity) {
      this.head = Atomics.load(this.control, HEAD) >>> 0
      if (((tail - this.head) >>> 0) + need > this.capacity) return NO_ROOM
    }
    const words = this.words
    if (total > toEnd) {
      words[at >>> 2] = PAD
      tail = (tail + toEnd) >>> 0
      at = 0
    }
    const h = at >>> 2
    words[h] = kind
    words[h + 1] = channel
    words[h + 2] = len
    this.bytes.set(bytes, at + ENTRY_HEADER)
    tail = (tail + total) >>> 0
    this.tail = tail
    // Publishes the entry; then, if main went idle, this writer is the one to wake it. (The
    // buffer is not a SharedArrayBuffer, so the language promises nothing across threads here;
    // V8 compiles these Atomics as on shared memory, a full barrier on x64 and stlr/ldar on
    // arm64, which keeps the entry's plain stores before the tail store that publishes it.
    // A ring closed between the check above and here takes the entry to nobody, as a message
    // queued just before its renderer went would be.)
    Atomics.store(this.control, TAIL, tail | 0)
    if (Atomics.load(this.control, IDLE) !== 0 && Atomics.compareExchange(this.control, IDLE, 1, 0) === 1) {
      return WAKE_MAIN
    }
    return WRITTEN
  }
}

module.exports = { RingWriter, NO_ROOM, WRITTEN, WAKE_MAIN }
