'use strict'
// Counts the messages whose large views the encoder left out for the sending call to read in
// place (lib/clone.js takeSplices), in this process (or jest module registry).

const clone = require('../../lib/clone')

/** Starts counting; `restore()` stops. */
function countSplices() {
  const take = clone.takeSplices
  const counter = {
    count: 0,
    restore() {
      clone.takeSplices = take
    },
  }
  clone.takeSplices = () => {
    const s = take()
    if (s !== null) counter.count++
    return s
  }
  return counter
}

module.exports = { countSplices }
