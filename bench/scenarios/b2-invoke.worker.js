'use strict'
// B2's renderer worker: the invoke loop, timed here.

const { workerData, parentPort } = require('worker_threads')
const { latencyAsync, ROOT } = require('../lib/harness')

const { subject, sizes } = workerData

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    const rt = await latencyAsync(i => ipcRenderer.invoke('rt', i), sizes)
    ipcRenderer.send('result', { rt })
  } else if (subject === 'postMessage') {
    let waiting = null
    const onMessage = m => waiting(m)
    parentPort.on('message', onMessage)
    const invoke = i =>
      new Promise(resolve => {
        waiting = resolve
        parentPort.postMessage(i)
      })
    const rt = await latencyAsync(invoke, sizes)
    parentPort.off('message', onMessage)
    parentPort.postMessage({ result: { rt } })
  }
}

main()
