'use strict'
// A2. In-process invoke round trip: sequential `await ipcRenderer.invoke(ch, i)` answered by
// `ipcMain.handle(ch, (e, i) => i)`.

const { defineScenario, requireIpcMain, latencyAsync } = require('../lib/harness')

// 10 000 warm-up calls: V8 is still optimizing this path for the first ~8000 (medians of successive
// 1000-call windows fall from ~12 µs to their steady value by then).
const sizes = quick =>
  quick ? { warmup: 200, samples: 2000, budgetMs: 1000 } : { warmup: 10000, samples: 20000, budgetMs: 4000 }

defineScenario(module, {
  id: 'A2',
  group: 'A',
  groupTitle: 'In-process renderer (same thread as main)',
  title: 'invoke round trip',
  how:
    'sequential `await ipcRenderer.invoke(ch, i)` (small int) answered by `ipcMain.handle(ch, (e, i) => i)`; ' +
    'each call timed; per process 20 000 samples (or 4 s, at least 50) after 10 000 warm-up calls.',
  metrics: [{ key: 'rt', label: 'invoke round trip', unit: 'µs', better: 'lower', latency: true }],
  targets: [
    { metric: 'rt', mode: 'unpinned', op: '<=', value: 3, label: 'ipc-main median ≤ 3 µs unpinned' },
    { metric: 'rt', mode: 'pinned', op: '<=', value: 3, label: 'ipc-main median ≤ 3 µs pinned' },
  ],
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      const wc = webContents.create()
      const r = wc.ipcRenderer
      ipcMain.handle('rt', (e, i) => i)
      try {
        return { rt: await latencyAsync(i => r.invoke('rt', i), sizes(quick)) }
      } finally {
        ipcMain.removeHandler('rt')
        wc.destroy()
      }
    },
    async 'electron-mock-ipc'({ quick }) {
      const createIPCMock = require('electron-mock-ipc').default
      const { ipcMain, ipcRenderer } = createIPCMock()
      ipcMain.handle('rt', (e, i) => i)
      // Each hop is a 1 ms setTimeout in the mock: the warm-up is cut to keep the run short.
      const s = sizes(quick)
      return { rt: await latencyAsync(i => ipcRenderer.invoke('rt', i), { ...s, warmup: Math.min(s.warmup, 50) }) }
    },
  },
})
