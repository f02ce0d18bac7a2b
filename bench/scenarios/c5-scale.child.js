'use strict'
// C5's child process: per round, on 'go', a burst of sends, then sendSyncs timed here.

const { hr, ROOT } = require('../lib/harness')
const { ipcRenderer } = require(ROOT)

const { burst, syncs, rounds } = JSON.parse(process.argv[2])
let round = 0

function onGo() {
  if (++round === rounds) ipcRenderer.off('go', onGo) // then nothing keeps this process alive
  for (let i = 0; i < burst; i++) ipcRenderer.send('m', i)
  const samples = []
  for (let k = 0; k < syncs; k++) {
    const t0 = hr()
    const got = ipcRenderer.sendSync('sync', k)
    samples.push(Number(hr() - t0) / 1e3)
    if (got !== k) throw new Error(`sendSync ${k} answered ${JSON.stringify(got)}`)
  }
  ipcRenderer.send('round-done', samples)
}

ipcRenderer.on('go', onGo)
ipcRenderer.send('ready')
