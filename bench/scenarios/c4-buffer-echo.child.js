'use strict'
// C4's child process: echoes a 16 MiB Buffer through main, timed here (µs → ms).

const { latencySync, latencyAsync, ROOT } = require('../lib/harness')
const peers = require('../lib/child-peers')

const arg = peers.childArg()
const { subject, sizes } = arg
const SIZE = 16 * 1024 * 1024
const buf = Buffer.alloc(SIZE, 0xa5)

function check(got) {
  // A Buffer may arrive as a Uint8Array; a wrong size means the benchmark measured something else.
  if (got.byteLength !== SIZE) throw new Error(`${subject}: echo came back with ${got.byteLength} bytes`)
}

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    const echo = await latencyAsync(async () => check(await ipcRenderer.invoke('echo', buf)), sizes)
    ipcRenderer.send('result', { echo: peers.toMs(echo) })
  } else if (subject === 'fifo') {
    const fifo = peers.fifoClient(arg)
    const echo = latencySync(() => check(fifo.sendSync(buf)), sizes)
    if (fifo.sendSync({ result: { echo: peers.toMs(echo) } }) !== 'bye') throw new Error('expected bye')
    fifo.close()
  } else {
    const ch = await peers.connectPeer(arg)
    // JSON has no bytes: a Buffer comes back as { type: 'Buffer', data: [...] }.
    const bytes = subject === 'fork-json' ? m => Buffer.from(m.data) : m => m
    const echo = await latencyAsync(async () => check(bytes(await ch.request(buf))), sizes)
    await peers.finishPeer(ch, { echo: peers.toMs(echo) })
  }
}

main()
