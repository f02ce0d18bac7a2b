'use strict'
// B2. Worker → main invoke round trip, small int payload, each call timed in the worker.
//   ipc-main: `await ipcRenderer.invoke(ch, i)`, main `ipcMain.handle(ch, (e, i) => i)`.
//   postMessage: the worker posts i, main's 'message' listener posts it back, the worker awaits
//   its next 'message'.

const path = require('path')
const { Worker } = require('worker_threads')
const { defineScenario, requireIpcMain, deferred } = require('../lib/harness')

const WORKER = path.join(__dirname, 'b2-invoke.worker.js')

const sizes = quick =>
  quick ? { warmup: 500, samples: 5000, budgetMs: 1500 } : { warmup: 5000, samples: 50000, budgetMs: 5000 }

defineScenario(module, {
  id: 'B2',
  group: 'B',
  groupTitle: 'Worker-thread renderer (main thread + one renderer worker)',
  title: 'worker → main invoke round trip',
  how:
    'small int payload echoed by main; each call timed in the worker; per process 50 000 samples (or 5 s) ' +
    'after 5000 warm-up calls.',
  metrics: [{ key: 'rt', label: 'invoke round trip', unit: 'µs', better: 'lower', latency: true }],
  targets: [
    { metric: 'rt', mode: 'unpinned', op: '<=', vs: 'postMessage', label: 'ipc-main median ≤ postMessage request/reply (unpinned)' },
    { metric: 'rt', mode: 'pinned', op: '<=', vs: 'postMessage', label: 'ipc-main median ≤ postMessage request/reply (pinned)' },
  ],
  subjectLabels: { postMessage: 'postMessage request/reply' },
  subjects: {
    'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      ipcMain.handle('rt', (e, i) => i)
      const result = deferred()
      const wc = webContents.worker(WORKER, { workerData: { subject: 'ipc-main', sizes: sizes(quick) } })
      wc.ipc.once('result', (e, r) => result.resolve(r))
      wc.once('render-process-gone', (e, d) => result.reject(new Error(`renderer gone before its result: ${d.reason}`)))
      return result.promise.finally(() => {
        ipcMain.removeHandler('rt')
        wc.destroy()
      })
    },
    postMessage({ quick }) {
      const result = deferred()
      const worker = new Worker(WORKER, { workerData: { subject: 'postMessage', sizes: sizes(quick) } })
      worker.on('message', m => {
        if (typeof m === 'number') worker.postMessage(m)
        else result.resolve(m.result)
      })
      worker.on('error', result.reject)
      return result.promise
    },
  },
})
