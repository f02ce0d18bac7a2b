'use strict'
// C4. 16 MiB Buffer echo between a child process and main: the child sends it, main sends it
// back, the child has it (its bytes, checked by length). Every hop serializes and copies.
//   ipc-main: `await ipcRenderer.invoke('echo', buf)` in a renderer process, main
//     `ipcMain.handle('echo', (e, b) => b)`.
//   fork advanced: `process.send(buf)`, main `child.send(m)`, the child awaits its next message.
//   fork json: the same; JSON turns the Buffer into { type: 'Buffer', data: [16M numbers] }, and
//     the child rebuilds it with Buffer.from(m.data) (inside the timing: that is how it comes back).
//   net: one v8.serialize frame each way.
//   fifo: the blocking-FIFO sendSync with the Buffer as its argument and answer.
// node-ipc is left out: see `missing`.

const path = require('path')
const { defineScenario, requireIpcMain, nativeFloor } = require('../lib/harness')
const peers = require('../lib/child-peers')

const CHILD = path.join(__dirname, 'c4-buffer-echo.child.js')

const sizes = quick =>
  quick ? { warmup: 2, samples: 6, budgetMs: 5000, minSamples: 3 } : { warmup: 5, samples: 30, budgetMs: 15000, minSamples: 10 }
// fork json takes seconds per echo: fewer of them (the median of at least 3, after 1).
const jsonSizes = quick =>
  quick ? { warmup: 0, samples: 2, budgetMs: 1, minSamples: 1 } : { warmup: 1, samples: 10, budgetMs: 12000, minSamples: 3 }

const echoPeer = (subject, s) => ({ quick }) =>
  peers.runPeer(subject, CHILD, { sizes: s(quick) }, (m, peer) => peer.send(m))

defineScenario(module, {
  id: 'C4',
  group: 'C',
  groupTitle: 'Child-process renderer (main + renderer processes)',
  title: '16 MiB Buffer echo',
  how:
    'the child sends a 16 MiB Buffer, main echoes it, the child has it back (length checked); each echo timed in ' +
    'the child, in ms; per process 30 echoes (or 15 s, at least 10) after 5 warm-up echoes; fork json: at least 3 ' +
    '(or 12 s) after 1. The native floor: two Rust processes (bench/floor) over a Unix socket, buffers allocated ' +
    'once, the same echoes; and the same with each leg copied once, by the sender, into the receiver\'s buffer ' +
    '(process_vm_writev; the socket only says it is there).',
  metrics: [{ key: 'echo', label: '16 MiB echo', unit: 'ms', better: 'lower' }],
  subjectLabels: {
    'fork-advanced': peers.PEER_LABELS['fork-advanced'],
    'fork-json': peers.PEER_LABELS['fork-json'],
    net: peers.PEER_LABELS.net,
    fifo: peers.PEER_LABELS.fifo,
    floor: 'native floor: two processes, Unix socket, reused buffers',
    'floor-direct': 'native floor: two processes, one copy per leg (process_vm_writev), reused buffers',
  },
  missing: [
    {
      subject: 'node-ipc',
      label: peers.PEER_LABELS['node-ipc'],
      why:
        "its default 'fast' parser JSON-encodes the Buffer (~58 MiB of text) and, for " +
        'every 64 KiB read, appends it to the pending string and searches that whole string for the delimiter, so ' +
        'reassembly is quadratic; one echo took about a minute when tried outside the harness',
    },
  ],
  targets: [
    { metric: 'echo', mode: 'unpinned', op: '<=', value: 12, label: 'ipc-main median ≤ 12 ms unpinned' },
    { metric: 'echo', mode: 'pinned', op: '<=', value: 12, label: 'ipc-main median ≤ 12 ms pinned' },
  ],
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      ipcMain.handle('echo', (e, b) => b)
      try {
        return await peers.runRenderer(webContents, CHILD, { sizes: sizes(quick) })
      } finally {
        ipcMain.removeHandler('echo')
      }
    },
    'fork-advanced': echoPeer('fork-advanced', sizes),
    'fork-json': echoPeer('fork-json', jsonSizes),
    net: echoPeer('net', sizes),
    fifo: ({ quick }) => peers.runFifo(CHILD, sizes(quick)),
    // No JS (bench/floor): 16 MiB there and back over a Unix socket between two processes, into
    // buffers allocated once; in this run.
    floor: ({ quick }) => ({ echo: nativeFloor(['echo', 16 << 20], sizes(quick)) }),
    // What one copy per leg instead of the socket's two would leave (a transport ipc-main does not
    // have): the sender writes into the receiver's buffer, then says so over the socket.
    'floor-direct': ({ quick }) => ({ echo: nativeFloor(['echo-direct', 16 << 20], sizes(quick)) }),
  },
})
