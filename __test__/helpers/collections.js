'use strict'
// Counts the garbage collections of this thread's heap from now until stop(), by kind.
const { PerformanceObserver, constants } = require('perf_hooks')

function countCollections() {
  const counts = { fullCollections: 0, youngCollections: 0 }
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.fullCollections++
      else if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.youngCollections++
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return {
    // Entries are delivered after the collection, on a later turn of the event loop.
    stop: () =>
      new Promise(resolve =>
        setTimeout(() => {
          observer.disconnect()
          resolve(counts)
        }, 20),
      ),
  }
}

module.exports = { countCollections }
