'use strict'
// Catching what tests expect to be thrown: synchronously, or as an uncaught exception of the
// real process.

const util = require('util')

// Errors thrown while main dispatches surface as uncaught exceptions of the real process. Under
// jest the test file's `process` is a copy, so reach the real one through a function of Node's
// own realm, and swap jest's handler out for as long as we listen.
const realProcess = util.format.constructor('return process')()

/** Runs `run(errors)`, collecting the process's uncaught exceptions meanwhile; returns them. */
async function captureUncaught(run) {
  const saved = realProcess.rawListeners('uncaughtException')
  const errors = []
  realProcess.removeAllListeners('uncaughtException')
  realProcess.on('uncaughtException', err => errors.push(err))
  try {
    await run(errors)
  } finally {
    realProcess.removeAllListeners('uncaughtException')
    for (const listener of saved) realProcess.on('uncaughtException', listener)
  }
  return errors
}

/** The error `fn` throws (undefined if it does not throw). */
function thrownBy(fn) {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

module.exports = { captureUncaught, thrownBy, realProcess }
