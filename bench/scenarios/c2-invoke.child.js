'use strict'
// C2's child process: the invoke (or request/reply) loop, timed here.

const { latencyAsync, ROOT } = require('../lib/harness')
const peers = require('../lib/child-peers')

const arg = peers.childArg()
const { subject, sizes } = arg

const echoed = peers.echoChecker(subject)

async function main() {
  if (subject === 'ipc-main') {
    const { ipcRenderer } = require(ROOT)
    const rt = await latencyAsync(async i => echoed(await ipcRenderer.invoke('rt', i), i), sizes)
    ipcRenderer.send('result', { rt })
  } else {
    const ch = await peers.connectPeer(arg)
    const rt = await latencyAsync(async i => echoed(await ch.request(i), i), sizes)
    await peers.finishPeer(ch, { rt })
  }
}

main()
