'use strict'
// B1's renderer worker: the sendSync loop, timed here where the thread blocks.

const { workerData, parentPort, MessageChannel, receiveMessageOnPort } = require('worker_threads')
const { latencySync, ROOT } = require('../lib/harness')

const { subject, sizes } = workerData

if (subject === 'ipc-main') {
  const { ipcRenderer } = require(ROOT)
  const rt = latencySync(i => ipcRenderer.sendSync('sync', i), sizes)
  ipcRenderer.send('result', { rt })
} else if (subject === 'atomics') {
  const flag = new Int32Array(new SharedArrayBuffer(4))
  const { port1, port2 } = new MessageChannel()
  parentPort.postMessage({ setup: { sab: flag.buffer, port: port2 } }, [port2])
  const sendSync = i => {
    Atomics.store(flag, 0, 0)
    parentPort.postMessage(i)
    Atomics.wait(flag, 0, 0)
    // The answer was posted before the notify, but can reach the port a moment after it (seen
    // once in 50 000 calls): wait for it rather than fail.
    for (;;) {
      const got = receiveMessageOnPort(port1)
      if (got !== undefined) return got.message
    }
  }
  const rt = latencySync(sendSync, sizes)
  port1.close()
  parentPort.postMessage({ result: { rt } })
}
