'use strict'
// C2. Child process → main invoke round trip, small int payload, each call timed in the child.
//   ipc-main: in a renderer process, `await ipcRenderer.invoke(ch, i)`; main
//     `ipcMain.handle(ch, (e, i) => i)`.
//   fork json, fork advanced, node-ipc, net: the async request/reply of each: the child sends i,
//     main's listener sends it back, the child awaits its next message (lib/child-peers.js).

const path = require('path')
const { defineScenario, requireIpcMain } = require('../lib/harness')
const peers = require('../lib/child-peers')

const CHILD = path.join(__dirname, 'c2-invoke.child.js')

const sizes = quick =>
  quick ? { warmup: 500, samples: 5000, budgetMs: 1500 } : { warmup: 5000, samples: 50000, budgetMs: 5000 }

const echoPeer = subject => ({ quick }) =>
  peers.runPeer(subject, CHILD, { sizes: sizes(quick) }, (m, peer) => peer.send(m))

defineScenario(module, {
  id: 'C2',
  group: 'C',
  groupTitle: 'Child-process renderer (main + renderer processes)',
  title: 'child → main invoke round trip',
  how:
    'small int payload echoed by main (checked); each call timed in the child; per process 50 000 samples ' +
    '(or 5 s) after 5000 warm-up calls.',
  metrics: [{ key: 'rt', label: 'invoke round trip', unit: 'µs', better: 'lower', latency: true }],
  subjectLabels: {
    'fork-json': `${peers.PEER_LABELS['fork-json']} request/reply`,
    'fork-advanced': `${peers.PEER_LABELS['fork-advanced']} request/reply`,
    'node-ipc': `${peers.PEER_LABELS['node-ipc']} request/reply`,
    net: `${peers.PEER_LABELS.net} request/reply`,
  },
  missing: [{ subject: 'fifo', label: peers.PEER_LABELS.fifo, why: 'the blocking-FIFO peer has no async request; its round trip is in C1' }],
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      ipcMain.handle('rt', (e, i) => i)
      try {
        return await peers.runRenderer(webContents, CHILD, { sizes: sizes(quick) })
      } finally {
        ipcMain.removeHandler('rt')
      }
    },
    'fork-json': echoPeer('fork-json'),
    'fork-advanced': echoPeer('fork-advanced'),
    'node-ipc': echoPeer('node-ipc'),
    net: echoPeer('net'),
  },
})
