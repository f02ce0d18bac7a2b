'use strict'
// What the young-generation check (src/binding/young_memory.rs) saves on the 16 MiB echoes:
// ipc-main's subject of C4 (process) and B4 (worker), in alternating processes with the check
// and without it (IPC_MAIN_YOUNG_CHECK=0), one build, unpinned and pinned to one CPU.
//
//   node bench/young-check.js [--pairs 8] [C4|B4 ...]
//
// Prints each pair's medians, then per scenario and mode the median of the processes' medians
// on each side and the median of the per-pair ratios (with ÷ without).

const { execFileSync } = require('child_process')
const path = require('path')
const { RESULT_MARK } = require('./lib/harness')

const SCENARIOS = {
  C4: 'c4-buffer-echo.js',
  B4: 'b4-buffer-echo.js',
}

const argv = process.argv.slice(2)
const at = argv.indexOf('--pairs')
const pairs = at >= 0 ? Number(argv[at + 1]) : 8
const ids = argv.filter((a, i) => SCENARIOS[a] && argv[i - 1] !== '--pairs')
const chosen = ids.length > 0 ? ids : Object.keys(SCENARIOS)

const median = values => {
  const s = [...values].sort((a, b) => a - b)
  const n = s.length
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

function echo(file, pinned, check) {
  const script = path.join(__dirname, 'scenarios', file)
  const [cmd, args] = pinned ? ['taskset', ['-c', '0', process.execPath, script]] : [process.execPath, [script]]
  const out = execFileSync(cmd, [...args, '--subject', 'ipc-main'], {
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, IPC_MAIN_YOUNG_CHECK: check ? '1' : '0' },
  })
  const line = out.split('\n').find(l => l.startsWith(RESULT_MARK))
  return JSON.parse(line.slice(RESULT_MARK.length)).metrics.echo.median
}

for (const id of chosen) {
  for (const pinned of [false, true]) {
    const mode = pinned ? 'pinned' : 'unpinned'
    const rows = []
    for (let i = 0; i < pairs; i++) {
      // Alternate which side goes first, so neither always runs on a warmer machine.
      const order = i % 2 ? [false, true] : [true, false]
      const got = {}
      for (const check of order) got[check] = echo(SCENARIOS[id], pinned, check)
      rows.push({ with: got.true, without: got.false })
      console.log(`${id} ${mode} pair ${i + 1}: with ${got.true.toFixed(2)} ms, without ${got.false.toFixed(2)} ms`)
    }
    const w = median(rows.map(r => r.with))
    const wo = median(rows.map(r => r.without))
    const ratio = median(rows.map(r => r.with / r.without))
    console.log(`${id} ${mode}: with ${w.toFixed(2)} ms, without ${wo.toFixed(2)} ms, median ratio ${ratio.toFixed(2)} (${pairs} pairs)`)
  }
}
