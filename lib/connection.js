'use strict'
// A renderer process's connection to its main. When main goes away (it exited, crashed, or
// destroyed this renderer), pending invokes reject and a blocked sendSync throws
// (ERR_IPC_DISCONNECTED), 'close' is emitted, and then, like an Electron renderer, the process
// exits, unless `exitOnClose` was set to false.

const { EventEmitter } = require('events')
const { setImmediate } = require('timers')

class MainConnection extends EventEmitter {
  constructor(address, info, exitOnClose) {
    super()
    /** Where main listens. */
    this.address = address
    /** This renderer's id in main (its `webContents.id` there). */
    this.rendererId = info.remote
    /** Main's process id. */
    this.mainPid = info.mainPid
    /** Exit this process when main goes away (default for processes main started). */
    this.exitOnClose = exitOnClose
    this.closed = false
  }

  _closed() {
    if (this.closed) return
    this.closed = true
    this.emit('close')
    // After the rejections and errors already queued have reached user code.
    if (this.exitOnClose) setImmediate(() => this.exitOnClose && process.exit(0))
  }
}

module.exports = { MainConnection }
