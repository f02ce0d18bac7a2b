'use strict'
// C3. Child process → main one-way send throughput: the child sends N small ints, main counts
// them. Timed from the child's first send to the moment main saw the Nth message (process.hrtime
// is CLOCK_MONOTONIC, one clock for every process of the machine, so the child's start time and
// main's end time subtract). After each run the child sends its start time on one more message,
// main answers "next", and the child goes on (B3's protocol, over each transport).
//   ipc-main: `ipcRenderer.send(ch, i)` in a renderer process → `ipcMain.on(ch, ...)`.
//   fork json, fork advanced: `process.send(i)` → `child.on('message', ...)`.
//   node-ipc: `ipc.of.main.emit('m', i)` → `ipc.server.on('m', ...)`.
//   net: one v8.serialize frame per message, corked and written once per tick.

const path = require('path')
const { defineScenario, requireIpcMain, burstCounter } = require('../lib/harness')
const peers = require('../lib/child-peers')

const CHILD = path.join(__dirname, 'c3-send-throughput.child.js')

const sizes = quick => (quick ? { n: 20000, runs: 3, warmupRuns: 1 } : { n: 200000, runs: 7, warmupRuns: 2 })

const peer = subject => async ({ quick }) => {
  const s = sizes(quick)
  const c = burstCounter(s)
  await peers.runPeer(subject, CHILD, { sizes: s }, (m, p) => {
    if (typeof m === 'number') c.message()
    else if (c.end(m.end)) p.send('next')
  })
  return c.done
}

defineScenario(module, {
  id: 'C3',
  group: 'C',
  groupTitle: 'Child-process renderer (main + renderer processes)',
  title: 'child → main one-way send throughput',
  how:
    "the child sends 200 000 small ints in one go; timed from its first send until main's listener saw the last; " +
    'messages/s, per process the median of 7 runs after 2 warm-up runs; a run fails if main saw fewer than 200 000.',
  metrics: [{ key: 'send', label: 'send, one burst of 200k', unit: 'msg/s', better: 'higher' }],
  subjectLabels: {
    'fork-json': peers.PEER_LABELS['fork-json'],
    'fork-advanced': peers.PEER_LABELS['fork-advanced'],
    'node-ipc': peers.PEER_LABELS['node-ipc'],
    net: peers.PEER_LABELS.net,
  },
  missing: [{ subject: 'fifo', label: peers.PEER_LABELS.fifo, why: 'the blocking-FIFO peer only does sendSync (C1)' }],
  targets: [
    { metric: 'send', mode: 'unpinned', op: '>=', value: 1.5e6, label: 'ipc-main ≥ 1.5M msg/s (unpinned)' },
    { metric: 'send', mode: 'pinned', op: '>=', value: 1.5e6, label: 'ipc-main ≥ 1.5M msg/s (pinned)' },
  ],
  subjects: {
    async 'ipc-main'({ quick }) {
      const { ipcMain, webContents } = requireIpcMain()
      const s = sizes(quick)
      const c = burstCounter(s)
      let wc = null
      ipcMain.on('m', () => c.message())
      ipcMain.on('end', (e, t0) => {
        if (c.end(t0)) wc.send('next')
      })
      try {
        await peers.runRenderer(webContents, CHILD, { sizes: s }, created => {
          wc = created
        })
        return await c.done
      } finally {
        ipcMain.removeAllListeners('m')
        ipcMain.removeAllListeners('end')
      }
    },
    'fork-json': peer('fork-json'),
    'fork-advanced': peer('fork-advanced'),
    'node-ipc': peer('node-ipc'),
    net: peer('net'),
  },
})
