'use strict'
// C1. Child process → main sendSync round trip, small int payload, each call timed in the child
// where it blocks.
//   ipc-main: a renderer process (`webContents.fork(file, [arg])`) calls
//     `ipcRenderer.sendSync(ch, i)`; main answers `e.returnValue = i` (the child blocks in Rust
//     until the answer comes back over the Unix socket).
//   fifo: the hand-built blocking-FIFO sendSync (lib/child-peers.js): the child writes a
//     v8.serialize frame to a request FIFO and blocks in fs.readSync on the reply FIFO; main reads
//     the request in its event loop and writes the answer with fs.writeSync.
//   fork json, fork advanced, node-ipc, net: they cannot block, so their async request/reply is
//     the reference: the child sends i, main sends it back, the child awaits it (the same
//     measurement as in C2, repeated here so both rows come from the same processes' run).

const path = require('path')
const { defineScenario, requireIpcMain, nativeFloor } = require('../lib/harness')
const peers = require('../lib/child-peers')

const CHILD = path.join(__dirname, 'c1-send-sync.child.js')

const sizes = quick =>
  quick ? { warmup: 500, samples: 5000, budgetMs: 1500 } : { warmup: 5000, samples: 50000, budgetMs: 5000 }

/** An async peer: main echoes each message back. */
const echoPeer = subject => ({ quick }) =>
  peers.runPeer(subject, CHILD, { sizes: sizes(quick) }, (m, peer) => peer.send(m))

defineScenario(module, {
  id: 'C1',
  group: 'C',
  groupTitle: 'Child-process renderer (main + renderer processes)',
  title: 'child → main sendSync round trip',
  how:
    'small int payload, answered with the same value (checked); each call timed in the child; per process ' +
    '50 000 samples (or 5 s) after 5000 warm-up calls. ipc-main and the FIFO block the child; fork json, ' +
    'fork advanced, node-ipc and net cannot, so their async request/reply (as C2) is the reference. The native ' +
    'floor: two Rust processes (bench/floor) over a Unix socket, 8-byte messages, the same samples.',
  metrics: [{ key: 'rt', label: 'sendSync round trip', unit: 'µs', better: 'lower', latency: true }],
  subjectLabels: {
    fifo: peers.PEER_LABELS.fifo,
    'fork-json': `${peers.PEER_LABELS['fork-json']} (async round trip)`,
    'fork-advanced': `${peers.PEER_LABELS['fork-advanced']} (async round trip)`,
    'node-ipc': `${peers.PEER_LABELS['node-ipc']} (async round trip)`,
    net: `${peers.PEER_LABELS.net} (async round trip)`,
    'floor-spin': 'native floor: two processes, Unix socket, yield-spin then poll',
    'floor-blocking': 'native floor: two processes, Unix socket, blocking',
  },
  targets: [
    { metric: 'rt', mode: 'unpinned', op: '<=', value: 40, label: 'ipc-main median ≤ 40 µs unpinned' },
    { metric: 'rt', mode: 'pinned', op: '<=', value: 6, label: 'ipc-main median ≤ 6 µs pinned' },
  ],
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      ipcMain.on('sync', (e, i) => {
        e.returnValue = i
      })
      try {
        return await peers.runRenderer(webContents, CHILD, { sizes: sizes(quick) })
      } finally {
        ipcMain.removeAllListeners('sync')
      }
    },
    fifo: ({ quick }) => peers.runFifo(CHILD, sizes(quick)),
    'fork-json': echoPeer('fork-json'),
    'fork-advanced': echoPeer('fork-advanced'),
    'node-ipc': echoPeer('node-ipc'),
    net: echoPeer('net'),
    // No JS, no event loop (bench/floor): what two processes of this machine do at best, in this run.
    'floor-spin': ({ quick }) => ({ rt: nativeFloor(['sockets', 'spin'], sizes(quick)) }),
    'floor-blocking': ({ quick }) => ({ rt: nativeFloor(['sockets', 'blocking'], sizes(quick)) }),
  },
})
