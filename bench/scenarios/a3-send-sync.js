'use strict'
// A3. In-process sendSync round trip: `ipcRenderer.sendSync(ch, i)` answered by a listener that
// sets `event.returnValue = i`. ipc-main only: electron-mock-ipc's sendSync logs its arguments
// with console.log and returns undefined (no listener runs), so there is nothing to compare.

const { defineScenario, requireIpcMain, latencySync } = require('../lib/harness')

const sizes = quick =>
  quick ? { warmup: 500, samples: 5000, budgetMs: 1000 } : { warmup: 5000, samples: 50000, budgetMs: 4000 }

defineScenario(module, {
  id: 'A3',
  group: 'A',
  groupTitle: 'In-process renderer (same thread as main)',
  title: 'sendSync round trip',
  how:
    '`ipcRenderer.sendSync(ch, i)` (small int) answered by `ipcMain.on(ch, e => { e.returnValue = i })`; each call timed; ' +
    'per process 50 000 samples (or 4 s) after 5000 warm-up calls.',
  metrics: [{ key: 'rt', label: 'sendSync round trip', unit: 'µs', better: 'lower', latency: true }],
  missing: [
    {
      subject: 'electron-mock-ipc',
      why: "electron-mock-ipc 0.3.14's `sendSync` only `console.log`s its arguments and returns `undefined`",
    },
  ],
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      const wc = webContents.create()
      const r = wc.ipcRenderer
      ipcMain.on('sync', (e, i) => {
        e.returnValue = i
      })
      try {
        return { rt: latencySync(i => r.sendSync('sync', i), sizes(quick)) }
      } finally {
        ipcMain.removeAllListeners('sync')
        wc.destroy()
      }
    },
  },
})
