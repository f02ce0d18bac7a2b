'use strict'
// B1. Worker → main sendSync round trip, small int payload, each call timed where it blocks.
//   ipc-main: in a renderer worker, `ipcRenderer.sendSync(ch, i)`; main answers
//     `e.returnValue = i` (the worker blocks in Rust).
//   synckit: `createSyncFn(file)(i)`, the worker's `runAsWorker(async i => i)` answers. synckit's
//     caller is always the thread that made the sync function, so here main blocks and a worker
//     answers: the same one-blocked-thread/one-answering-event-loop shape, roles swapped.
//   postMessage + Atomics.wait: in a worker, `parentPort.postMessage(i)`, `Atomics.wait` on a
//     SharedArrayBuffer, then `receiveMessageOnPort`; main's 'message' listener posts the answer
//     on a MessagePort and `Atomics.notify`s.

const path = require('path')
const { Worker } = require('worker_threads')
const { defineScenario, requireIpcMain, latencySync, deferred, nativeFloor } = require('../lib/harness')

const WORKER = path.join(__dirname, 'b1-send-sync.worker.js')
const SYNCKIT_WORKER = path.join(__dirname, 'b1-send-sync.synckit.js')

const sizes = quick =>
  quick ? { warmup: 500, samples: 5000, budgetMs: 1500 } : { warmup: 5000, samples: 50000, budgetMs: 5000 }

defineScenario(module, {
  id: 'B1',
  group: 'B',
  groupTitle: 'Worker-thread renderer (main thread + one renderer worker)',
  title: 'worker → main sendSync round trip',
  how:
    'small int payload, answered with the same value; each call timed by the blocked thread; per process ' +
    '50 000 samples (or 5 s) after 5000 warm-up calls. synckit blocks main and answers in its worker ' +
    '(its only mode); the other two block the worker and answer in main. The native floor: two threads of a Rust ' +
    'program (bench/floor), the same samples, no JS.',
  metrics: [{ key: 'rt', label: 'sendSync round trip', unit: 'µs', better: 'lower', latency: true }],
  subjectLabels: {
    atomics: 'postMessage + Atomics.wait',
    'floor-spin': 'native floor: two threads, yield-spin then condvar',
    'floor-condvar': 'native floor: two threads, condvar',
  },
  targets: [
    { metric: 'rt', mode: 'unpinned', op: '<=', value: 35, label: 'ipc-main median ≤ 35 µs unpinned' },
    { metric: 'rt', mode: 'pinned', op: '<=', value: 5, label: 'ipc-main median ≤ 5 µs pinned' },
  ],
  subjects: {
    'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      ipcMain.on('sync', (e, i) => {
        e.returnValue = i
      })
      const result = deferred()
      const wc = webContents.worker(WORKER, { workerData: { subject: 'ipc-main', sizes: sizes(quick) } })
      wc.ipc.once('result', (e, r) => result.resolve(r))
      wc.once('render-process-gone', (e, d) => result.reject(new Error(`renderer gone before its result: ${d.reason}`)))
      return result.promise.finally(() => {
        ipcMain.removeAllListeners('sync')
        wc.destroy()
      })
    },
    synckit({ quick }) {
      const { createSyncFn } = require('synckit')
      const syncFn = createSyncFn(SYNCKIT_WORKER)
      // synckit unrefs its worker: the process exits without an explicit teardown.
      return { rt: latencySync(i => syncFn(i), sizes(quick)) }
    },
    atomics({ quick }) {
      const result = deferred()
      const worker = new Worker(WORKER, { workerData: { subject: 'atomics', sizes: sizes(quick) } })
      let flag = null
      let port = null
      worker.on('message', m => {
        if (typeof m === 'number') {
          port.postMessage(m)
          Atomics.store(flag, 0, 1)
          Atomics.notify(flag, 0)
        } else if (m.setup) {
          flag = new Int32Array(m.setup.sab)
          port = m.setup.port
        } else {
          result.resolve(m.result)
        }
      })
      worker.on('error', result.reject)
      return result.promise.finally(() => {
        if (port) port.close()
        worker.terminate()
      })
    },
    // No JS, no event loop (bench/floor): what two threads of this machine do at best, in this run.
    'floor-spin': ({ quick }) => ({ rt: nativeFloor(['threads', 'spin'], sizes(quick)) }),
    'floor-condvar': ({ quick }) => ({ rt: nativeFloor(['threads', 'condvar'], sizes(quick)) }),
  },
})
