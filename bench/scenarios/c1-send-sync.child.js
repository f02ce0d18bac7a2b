'use strict'
// C1's child process: the sendSync (or async request/reply) loop, timed here.

const { latencySync, latencyAsync, ROOT } = require('../lib/harness')
const peers = require('../lib/child-peers')

const arg = peers.childArg()
const { subject, sizes } = arg

const echoed = peers.echoChecker(subject)

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    const rt = latencySync(i => echoed(ipcRenderer.sendSync('sync', i), i), sizes)
    ipcRenderer.send('result', { rt })
  } else if (subject === 'fifo') {
    const fifo = peers.fifoClient(arg)
    const rt = latencySync(i => echoed(fifo.sendSync(i), i), sizes)
    echoed(fifo.sendSync({ result: { rt } }), 'bye')
    fifo.close()
  } else {
    const ch = await peers.connectPeer(arg)
    const rt = await latencyAsync(async i => echoed(await ch.request(i), i), sizes)
    await peers.finishPeer(ch, { rt })
  }
}

main()
