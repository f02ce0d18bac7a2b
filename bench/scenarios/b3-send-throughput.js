'use strict'
// B3. Worker → main one-way send throughput: the worker sends N small ints, main counts them.
// Timed from the worker's first send to the moment main's listener saw the Nth message (one
// process-wide monotonic clock, so the two threads' timestamps subtract). After each run the
// worker sends its start time on a second message, main answers "next", and the worker goes on.
//   ipc-main: `ipcRenderer.send(ch, i)` → `ipcMain.on(ch, ...)`.
//   postMessage: `parentPort.postMessage(i)` → `worker.on('message', ...)`.

const path = require('path')
const { Worker } = require('worker_threads')
const { defineScenario, requireIpcMain, burstCounter } = require('../lib/harness')

const WORKER = path.join(__dirname, 'b3-send-throughput.worker.js')

const sizes = quick => (quick ? { n: 20000, runs: 3, warmupRuns: 1 } : { n: 200000, runs: 7, warmupRuns: 2 })

defineScenario(module, {
  id: 'B3',
  group: 'B',
  groupTitle: 'Worker-thread renderer (main thread + one renderer worker)',
  title: 'worker → main one-way send throughput',
  how:
    'the worker sends 200 000 small ints in one go; timed from its first send until main\'s listener saw the last; ' +
    'messages/s, per process the median of 7 runs after 2 warm-up runs.',
  metrics: [{ key: 'send', label: 'send, one burst of 200k', unit: 'msg/s', better: 'higher' }],
  subjectLabels: { postMessage: 'parentPort.postMessage' },
  targets: [
    { metric: 'send', mode: 'unpinned', op: '>=', value: 1.5e6, label: 'ipc-main ≥ 1.5M msg/s (unpinned)' },
    { metric: 'send', mode: 'pinned', op: '>=', value: 1.5e6, label: 'ipc-main ≥ 1.5M msg/s (pinned)' },
  ],
  subjects: {
    'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      const s = sizes(quick)
      let wc = null
      const c = burstCounter(s)
      ipcMain.on('m', () => c.message())
      ipcMain.on('end', (e, t0) => {
        if (c.end(t0)) wc.send('next')
      })
      wc = webContents.worker(WORKER, { workerData: { subject: 'ipc-main', sizes: s } })
      // After the last run the worker exits by itself; before that, its end is a failure.
      wc.once('render-process-gone', (e, d) => c.fail(new Error(`renderer gone before its result: ${d.reason}`)))
      return c.done.finally(() => {
        ipcMain.removeAllListeners('m')
        ipcMain.removeAllListeners('end')
        wc.destroy()
      })
    },
    postMessage({ quick }) {
      const s = sizes(quick)
      const worker = new Worker(WORKER, { workerData: { subject: 'postMessage', sizes: s } })
      const c = burstCounter(s)
      worker.on('message', m => {
        if (typeof m === 'number') c.message()
        else if (c.end(m.end)) worker.postMessage('next')
      })
      worker.on('error', c.fail)
      return c.done.finally(() => worker.terminate())
    },
  },
})
