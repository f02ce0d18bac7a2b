'use strict'
// C5. Scale: N renderer processes (1, 10, 50, 200; one subject each, so every N is a fresh main
// process) connected to one main, all sending at once. Per round, main sends 'go' to every child;
// each child sends a burst of small ints (`ipcRenderer.send('m', i)`, i = 0 .. burst-1), then does
// a few `sendSync`s back to back (timed in the child) and reports them on 'round-done'. Main
// checks that it saw every child's burst whole and in order, and starts the next round once
// every child is done with this one. After the last round the children exit by themselves.
//   send:   aggregate msg/s of the bursts, from main's 'go' until main saw the last message of
//           the round (N × burst messages); per process the median of the measured rounds.
//   sync:   sendSync round trips while the other children are still sending (each child's first
//           one also waits for main to dispatch its own burst first: messages of one renderer
//           are dispatched in order); the median/p90/p99 of all children's samples.
//   ready:  from the first webContents.fork to the last child's 'ready' (node start-up and
//           connecting), in ms.
//   main's RSS: before the first fork, its peak while the children ran (VmHWM, reset before the
//           first fork through /proc/self/clear_refs), and after the last child exited.
// ipc-main only.

const path = require('path')
const fs = require('fs')
const { defineScenario, requireIpcMain, nowNs, summarize, summarizeRuns, deferred } = require('../lib/harness')

const CHILD = path.join(__dirname, 'c5-scale.child.js')
const COUNTS = [1, 10, 50, 200]

const sizes = quick =>
  quick ? { burst: 1000, syncs: 5, rounds: 2, warmupRounds: 1 } : { burst: 5000, syncs: 20, rounds: 7, warmupRounds: 3 }
// Every child must be gone this long after the last round, or the run fails (and they are destroyed).
const EXIT_MS = 30000
const MiB = 2 ** 20

/** Resets the kernel's peak-RSS mark of this process; false where it cannot. */
function resetPeak() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/** Peak RSS in bytes since the last reset (VmHWM), or since the start (resourceUsage). */
function peakRss() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {}
  return process.resourceUsage().maxRSS * 1024
}

async function scale(n, quick) {
  const { ipcMain, webContents } = requireIpcMain()
  const { burst, syncs, rounds, warmupRounds } = sizes(quick)
  const totalRounds = warmupRounds + rounds
  const one = v => summarizeRuns([v])

  const failed = deferred()
  const fail = msg => failed.reject(new Error(msg))
  // Per renderer id: the next i expected in this round.
  const nextI = new Map()
  let seen = 0
  let lastAt = 0
  let roundDone = 0
  let ready = 0
  let round = 0
  let t0 = 0
  const rates = []
  const syncSamples = []
  let roundFinished = deferred()
  let allReady = deferred()

  ipcMain.on('m', (e, i) => {
    const id = e.sender.id
    const want = nextI.get(id)
    if (i !== want) fail(`round ${round}: renderer ${id} sent ${i} where ${want} was expected (lost or reordered)`)
    nextI.set(id, i + 1)
    if (++seen === n * burst) lastAt = nowNs()
  })
  ipcMain.on('sync', (e, k) => {
    e.returnValue = k
  })
  ipcMain.on('ready', () => {
    if (++ready === n) allReady.resolve()
  })
  // Per renderer id: rounds it has finished (a child may exit once it finished the last one).
  const finishedRounds = new Map()
  ipcMain.on('round-done', (e, samples) => {
    finishedRounds.set(e.sender.id, (finishedRounds.get(e.sender.id) ?? 0) + 1)
    if (round >= warmupRounds) for (const s of samples) syncSamples.push(s)
    if (++roundDone === n) roundFinished.resolve()
  })

  const rssBefore = process.memoryUsage().rss
  const peakReset = resetPeak()
  const tFork = nowNs()
  const wcs = []
  const gone = []
  for (let k = 0; k < n; k++) {
    const wc = webContents.fork(CHILD, [JSON.stringify({ subject: `n${n}`, burst, syncs, rounds: totalRounds })])
    wcs.push(wc)
    gone.push(
      new Promise(resolve =>
        wc.once('render-process-gone', (e, d) => {
          // A child that ends before it finished its last round fails the run at once.
          const done = finishedRounds.get(wc.id) ?? 0
          if (done < totalRounds) fail(`renderer ${wc.id} gone after ${done} of ${totalRounds} rounds: ${JSON.stringify(d)}`)
          resolve({ id: wc.id, ...d })
        }),
      ),
    )
  }

  try {
    await Promise.race([allReady.promise, failed.promise])
    const readyMs = (nowNs() - tFork) / 1e6
    for (round = 0; round < totalRounds; round++) {
      seen = 0
      roundDone = 0
      roundFinished = deferred()
      for (const wc of wcs) nextI.set(wc.id, 0)
      t0 = nowNs()
      for (const wc of wcs) wc.send('go')
      await Promise.race([roundFinished.promise, failed.promise])
      if (seen !== n * burst) fail(`round ${round}: main saw ${seen} of ${n * burst} messages`)
      if (round >= warmupRounds) rates.push(((n * burst) / (lastAt - t0)) * 1e9)
    }
    // Every child exits by itself after its last round.
    let timer
    const late = new Promise(resolve => {
      timer = setTimeout(() => resolve(null), EXIT_MS)
    })
    const ends = await Promise.race([Promise.all(gone), late, failed.promise])
    clearTimeout(timer)
    if (ends === null) {
      const left = wcs.filter(wc => !wc.isDestroyed()).length
      for (const wc of wcs) wc.destroy()
      throw new Error(`${left} of ${n} renderer processes had not exited ${EXIT_MS / 1000} s after the last round (destroyed)`)
    }
    const unclean = ends.filter(d => d.reason !== 'clean-exit')
    if (unclean.length > 0) throw new Error(`${unclean.length} renderer(s) did not end cleanly: ${JSON.stringify(unclean[0])}`)
    const rssAfter = process.memoryUsage().rss
    const peak = Math.max(peakRss(), rssAfter)
    return {
      send: summarizeRuns(rates),
      sync: summarize(syncSamples),
      ready: one(readyMs),
      rssBefore: one(rssBefore / MiB),
      rssPeak: { ...one(peak / MiB), peakReset },
      rssAfter: one(rssAfter / MiB),
    }
  } catch (err) {
    for (const wc of wcs) if (!wc.isDestroyed()) wc.destroy()
    throw err
  } finally {
    for (const ch of ['m', 'sync', 'ready', 'round-done']) ipcMain.removeAllListeners(ch)
  }
}

const subjects = {}
const subjectLabels = {}
for (const n of COUNTS) {
  subjects[`n${n}`] = ({ quick }) => scale(n, quick)
  subjectLabels[`n${n}`] = n === 1 ? '1 child' : `${n} children`
}

defineScenario(module, {
  id: 'C5',
  group: 'C',
  groupTitle: 'Child-process renderer (main + renderer processes)',
  title: 'scale: 1, 10, 50, 200 renderer processes',
  layout: 'scale',
  how:
    'N renderer processes (one fresh main per N), each round every child sends a burst of 5000 small ints then does ' +
    '20 sendSyncs; 7 rounds after 3 warm-up rounds; main checks every burst arrived whole and in order. ' +
    'Aggregate msg/s (median of rounds), sendSync µs (all children pooled), start-up to all connected, main RSS.',
  metrics: [
    { key: 'send', label: 'aggregate send', unit: 'msg/s', better: 'higher' },
    { key: 'sync', label: 'sendSync under load', unit: 'µs', better: 'lower', latency: true },
    { key: 'ready', label: 'fork → all connected', unit: 'ms', better: 'lower' },
    { key: 'rssBefore', label: 'main RSS before', unit: 'MiB', better: 'lower' },
    { key: 'rssPeak', label: 'main RSS peak', unit: 'MiB', better: 'lower' },
    { key: 'rssAfter', label: 'main RSS after', unit: 'MiB', better: 'lower' },
  ],
  subjectLabels,
  subjects,
})
