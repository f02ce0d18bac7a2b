'use strict'
// B3's renderer worker: sends bursts of small ints, each followed by its start time.

const { workerData, parentPort } = require('worker_threads')
const { hr, ROOT } = require('../lib/harness')

const { subject, sizes } = workerData
const { n, runs, warmupRuns } = sizes

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    for (let r = 0; r < warmupRuns + runs; r++) {
      const next = r + 1 < warmupRuns + runs ? new Promise(resolve => ipcRenderer.once('next', resolve)) : null
      const t0 = hr()
      for (let i = 0; i < n; i++) ipcRenderer.send('m', i)
      ipcRenderer.send('end', t0)
      await next
    }
  } else if (subject === 'postMessage') {
    for (let r = 0; r < warmupRuns + runs; r++) {
      const next =
        r + 1 < warmupRuns + runs ? new Promise(resolve => parentPort.once('message', resolve)) : null
      const t0 = hr()
      for (let i = 0; i < n; i++) parentPort.postMessage(i)
      parentPort.postMessage({ end: t0 })
      await next
    }
  }
}

main()
