'use strict'
// C3's child process: bursts of small ints, each followed by its start time.

const { nowNs, ROOT } = require('../lib/harness')
const peers = require('../lib/child-peers')

const arg = peers.childArg()
const { subject, sizes } = arg
const { n, runs, warmupRuns } = sizes

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    for (let r = 0; r < warmupRuns + runs; r++) {
      const next = r + 1 < warmupRuns + runs ? new Promise(resolve => ipcRenderer.once('next', resolve)) : null
      const t0 = nowNs()
      for (let i = 0; i < n; i++) ipcRenderer.send('m', i)
      ipcRenderer.send('end', t0)
      await next
    }
    ipcRenderer.send('result', true)
  } else {
    const ch = await peers.connectPeer(arg)
    for (let r = 0; r < warmupRuns + runs; r++) {
      const next = r + 1 < warmupRuns + runs ? ch.next() : null
      const t0 = nowNs()
      for (let i = 0; i < n; i++) ch.send(i)
      ch.send({ end: t0 })
      if (next !== null && (await next) !== 'next') throw new Error('expected next')
    }
    await peers.finishPeer(ch, true)
  }
}

main()
