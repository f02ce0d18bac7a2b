'use strict'
// A1. In-process one-way send: ipcRenderer.send(ch, i) ×N, timed until main's listener has seen
// all N. "burst": N sends in one go, then wait. "steady": batches of 1000, each awaited (until
// the listener saw it) before the next is sent, so no backlog builds up.

const { defineScenario, requireIpcMain, nowNs, summarizeRuns, deferred } = require('../lib/harness')

const BATCH = 1000

function sizes(quick) {
  return quick
    ? { burst: 10000, batches: 10, runs: 3, warmupRuns: 1 }
    : { burst: 100000, batches: 100, runs: 7, warmupRuns: 2 }
}

/**
 * Measures both variants over a renderer/main pair: `send(i)` sends from the renderer, `listen(fn)`
 * registers main's listener (called once per message).
 */
async function measure(send, listen, quick) {
  const { burst, batches, runs, warmupRuns } = sizes(quick)
  let seen = 0
  let target = 0
  let done = null
  listen(() => {
    if (++seen === target) done.resolve()
  })
  const sendAndWait = async n => {
    seen = 0
    target = n
    done = deferred()
    for (let i = 0; i < n; i++) send(i)
    await done.promise
  }
  const burstRun = async () => {
    const t0 = nowNs()
    await sendAndWait(burst)
    return (burst / (nowNs() - t0)) * 1e9
  }
  const steadyRun = async () => {
    const t0 = nowNs()
    for (let b = 0; b < batches; b++) await sendAndWait(BATCH)
    return ((batches * BATCH) / (nowNs() - t0)) * 1e9
  }
  const out = { burst: [], steady: [] }
  // Interleaved so both variants see the same state of the process.
  for (let r = 0; r < warmupRuns + runs; r++) {
    const b = await burstRun()
    const s = await steadyRun()
    if (r >= warmupRuns) {
      out.burst.push(b)
      out.steady.push(s)
    }
  }
  return { burst: summarizeRuns(out.burst), steady: summarizeRuns(out.steady) }
}

defineScenario(module, {
  id: 'A1',
  group: 'A',
  groupTitle: 'In-process renderer (same thread as main)',
  title: 'one-way send throughput',
  how:
    'renderer `send(ch, i)` ×N (small int), timed until main\'s listener saw all N. burst: N = 100 000 at once; ' +
    'steady: 100 batches of 1000, each awaited before the next. Messages/s; per process the median of 7 runs after 2 warm-up runs.',
  metrics: [
    { key: 'burst', label: 'send, one burst of 100k', unit: 'msg/s', better: 'higher' },
    { key: 'steady', label: 'send, batches of 1000', unit: 'msg/s', better: 'higher' },
  ],
  targets: [
    { metric: 'burst', mode: 'unpinned', op: '>=', value: 2e6, label: 'ipc-main ≥ 2M msg/s, one burst (unpinned)' },
    { metric: 'burst', mode: 'pinned', op: '>=', value: 2e6, label: 'ipc-main ≥ 2M msg/s, one burst (pinned)' },
  ],
  subjectLabels: { 'electron-mock-ipc': 'electron-mock-ipc' },
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      const wc = webContents.create()
      const r = wc.ipcRenderer
      try {
        return await measure(
          i => r.send('m', i),
          fn => ipcMain.on('m', fn),
          quick,
        )
      } finally {
        ipcMain.removeAllListeners('m')
        wc.destroy()
      }
    },
    async 'electron-mock-ipc'({ quick }) {
      const createIPCMock = require('electron-mock-ipc').default
      const { ipcMain, ipcRenderer } = createIPCMock()
      return measure(
        i => ipcRenderer.send('m', i),
        fn => ipcMain.on('m', fn),
        quick,
      )
    },
  },
})
