'use strict'
// B4. 16 MiB Buffer echo: the worker sends a 16 MiB Buffer, main sends it back, the worker has
// it. No transfer list anywhere: every hop is a structured-clone copy.
//   ipc-main: `await ipcRenderer.invoke('echo', buf)`, main `ipcMain.handle('echo', (e, b) => b)`.
//   postMessage: `parentPort.postMessage(buf)`, main `worker.postMessage(m)`, the worker awaits
//   its next 'message'.

const path = require('path')
const { Worker } = require('worker_threads')
const { defineScenario, requireIpcMain, deferred } = require('../lib/harness')

const WORKER = path.join(__dirname, 'b4-buffer-echo.worker.js')

const sizes = quick =>
  quick ? { warmup: 2, samples: 6, budgetMs: 5000, minSamples: 3 } : { warmup: 5, samples: 30, budgetMs: 15000, minSamples: 10 }

defineScenario(module, {
  id: 'B4',
  group: 'B',
  groupTitle: 'Worker-thread renderer (main thread + one renderer worker)',
  title: '16 MiB Buffer echo',
  how:
    'the worker sends a 16 MiB Buffer, main echoes it, the worker receives it (no transfer list: structured-clone copies); ' +
    'each echo timed in the worker, in ms; per process 30 echoes (or 15 s, at least 10) after 5 warm-up echoes.',
  metrics: [{ key: 'echo', label: '16 MiB echo', unit: 'ms', better: 'lower' }],
  subjectLabels: { postMessage: 'postMessage' },
  targets: [
    { metric: 'echo', mode: 'unpinned', op: '<=', vs: 'postMessage', label: 'ipc-main median ≤ postMessage median (unpinned)' },
    { metric: 'echo', mode: 'pinned', op: '<=', vs: 'postMessage', label: 'ipc-main median ≤ postMessage median (pinned)' },
  ],
  subjects: {
    'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      ipcMain.handle('echo', (e, b) => b)
      const result = deferred()
      const wc = webContents.worker(WORKER, { workerData: { subject: 'ipc-main', sizes: sizes(quick) } })
      wc.ipc.once('result', (e, r) => result.resolve(r))
      wc.once('render-process-gone', (e, d) => result.reject(new Error(`renderer gone before its result: ${d.reason}`)))
      return result.promise.finally(() => {
        ipcMain.removeHandler('echo')
        wc.destroy()
      })
    },
    postMessage({ quick }) {
      const result = deferred()
      const worker = new Worker(WORKER, { workerData: { subject: 'postMessage', sizes: sizes(quick) } })
      worker.on('message', m => {
        if (m.result) result.resolve(m.result)
        else worker.postMessage(m)
      })
      worker.on('error', result.reject)
      return result.promise
    },
  },
})
