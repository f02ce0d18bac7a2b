'use strict'
// B4's renderer worker: echoes a 16 MiB Buffer through main, timed here (µs → ms).

const { workerData, parentPort } = require('worker_threads')
const { latencyAsync, ROOT } = require('../lib/harness')

const { subject, sizes } = workerData
const SIZE = 16 * 1024 * 1024
const buf = Buffer.alloc(SIZE, 0xa5)

function check(got) {
  // A Buffer arrives as a Uint8Array; a wrong size means the benchmark measured something else.
  if (got.byteLength !== SIZE) throw new Error(`echo came back with ${got.byteLength} bytes`)
}

const toMs = s => ({ ...s, median: s.median / 1e3, p90: s.p90 / 1e3, p99: s.p99 / 1e3, min: s.min / 1e3, max: s.max / 1e3 })

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    const echo = await latencyAsync(async () => check(await ipcRenderer.invoke('echo', buf)), sizes)
    ipcRenderer.send('result', { echo: toMs(echo) })
  } else if (subject === 'postMessage') {
    let waiting = null
    const onMessage = m => waiting(m)
    parentPort.on('message', onMessage)
    const echo = await latencyAsync(
      () =>
        new Promise(resolve => {
          waiting = m => resolve(check(m))
          parentPort.postMessage(buf)
        }),
      sizes,
    )
    parentPort.off('message', onMessage)
    parentPort.postMessage({ result: { echo: toMs(echo) } })
  }
}

main()
