#!/usr/bin/env node
'use strict'
// Runs the benchmark scenarios of bench/scenarios, ipc-main and its peers side by side.
//
//   node bench/run.js [filter ...] [--quick] [--reps N] [--modes unpinned,pinned] [--timeout SECONDS]
//   node bench/run.js --report      only regenerate the README section from bench/results.json
//
// filter: scenario ids, group letters or parts of file names (`B1`, `C`, `invoke`); none = every scenario.
// Every (mode, repetition, subject) is a fresh `node` process, the subjects interleaved
// (A B C A B C ...), unpinned and pinned to CPU 0 with taskset. Writes bench/results.json (the
// scenarios run now replace their previous entries, the others are kept) and regenerates the
// results section of bench/README.md from it.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn, spawnSync, execFileSync } = require('child_process')
const { RESULT_MARK, FLOOR } = require('./lib/harness')
const report = require('./lib/report')

const BENCH = __dirname
const ROOT = path.resolve(BENCH, '..')
const SCENARIOS = path.join(BENCH, 'scenarios')
const RESULTS = path.join(BENCH, 'results.json')
const README = path.join(BENCH, 'README.md')
// After printing its result a scenario process must end by itself within this long.
const EXIT_GRACE_MS = 10000
// After a scenario process has exited, the processes it started (group C's children) must be
// gone within this long; the ones still running are reported and killed.
const LEFTOVER_GRACE_MS = 3000

function parseArgs(argv) {
  const opts = { filters: [], quick: false, reps: null, modes: ['unpinned', 'pinned'], timeoutS: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--quick') opts.quick = true
    else if (a === '--report') opts.reportOnly = true
    else if (a === '--reps') opts.reps = Number(argv[++i])
    else if (a === '--modes') opts.modes = argv[++i].split(',')
    else if (a === '--timeout') opts.timeoutS = Number(argv[++i])
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 13).join('\n'))
      process.exit(0)
    } else if (a.startsWith('--')) {
      console.error(`unknown option ${a}; see --help`)
      process.exit(2)
    }
    else opts.filters.push(a.toLowerCase())
  }
  opts.reps ??= opts.quick ? 2 : 5
  opts.timeoutS ??= opts.quick ? 60 : 300
  for (const m of opts.modes) if (m !== 'unpinned' && m !== 'pinned') throw new Error(`unknown mode ${m}`)
  return opts
}

// ---- preparation --------------------------------------------------------------------------

function ensureAddon() {
  const has = fs.readdirSync(ROOT).some(f => /^ipc-main\..*\.node$/.test(f))
  if (has) return
  console.log('ipc-main addon missing: npm run build (repo root)')
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
}

function ensureDeps() {
  if (fs.existsSync(path.join(BENCH, 'node_modules'))) return
  console.log('bench dependencies missing: npm install --prefix bench')
  execFileSync('npm', ['install', '--prefix', 'bench', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' })
}

// The native floor (bench/floor, a Rust program of its own): built when missing or older than
// its source.
function ensureFloor() {
  const dir = path.join(BENCH, 'floor')
  const src = path.join(dir, 'src', 'main.rs')
  if (fs.existsSync(FLOOR) && fs.statSync(FLOOR).mtimeMs >= fs.statSync(src).mtimeMs) return
  console.log('native floor: cargo build --release --manifest-path bench/floor/Cargo.toml')
  execFileSync('cargo', ['build', '--release', '--manifest-path', path.join(dir, 'Cargo.toml')], { stdio: 'inherit' })
}

function hasTaskset() {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8')
  const model = (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model || 'unknown'
  const mhz = (cpuinfo.match(/^cpu MHz\s*:\s*(.*)$/m) || [])[1]
  return {
    cpu: model.trim(),
    cpuMHz: mhz ? Number(mhz) : undefined,
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    arch: process.arch,
    npmPeers: peerVersions(),
  }
}

/**
 * The addon the scenario processes load (the repo root's ipc-main.*.node): its sha256 and mtime,
 * taken at the start and the end of a run, so a rebuild in the middle of one shows.
 */
function addonInfo() {
  const file = fs.readdirSync(ROOT).find(f => /^ipc-main\..*\.node$/.test(f))
  if (file === undefined) return null
  const bytes = fs.readFileSync(path.join(ROOT, file))
  return {
    file,
    sha256: require('crypto').createHash('sha256').update(bytes).digest('hex'),
    mtime: fs.statSync(path.join(ROOT, file)).mtime.toISOString(),
  }
}

/** The commit the repo is at, and whether files outside bench/ differ from it (what was built may too). */
function gitState() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const changed = execFileSync('git', ['status', '--porcelain', '--', '.', ':(exclude)bench'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(l => l.slice(3))
    return { head, changedOutsideBench: changed }
  } catch {
    return null
  }
}

function peerVersions() {
  const out = {}
  const pkg = JSON.parse(fs.readFileSync(path.join(BENCH, 'package.json'), 'utf8'))
  for (const name of Object.keys(pkg.dependencies || {})) {
    try {
      out[name] = JSON.parse(fs.readFileSync(path.join(BENCH, 'node_modules', name, 'package.json'), 'utf8')).version
    } catch {
      out[name] = 'not installed'
    }
  }
  return out
}

function discover(filters) {
  const all = fs
    .readdirSync(SCENARIOS)
    // Scenario files only: helpers (workers, synckit workers) carry a second dot-suffix.
    .filter(f => /^[a-z]\d+-[a-z0-9-]+\.js$/.test(f))
    .sort()
    .map(f => require(path.join(SCENARIOS, f)))
  if (filters.length === 0) return all
  // A single letter is a group (`C`), not a part of a file name.
  return all.filter(s =>
    filters.some(f =>
      /^[a-z]$/.test(f) ? s.group.toLowerCase() === f : s.id.toLowerCase() === f || path.basename(s.file).toLowerCase().includes(f),
    ),
  )
}

// ---- one process ----------------------------------------------------------------------------

function runProcess(scenario, subject, mode, opts) {
  const node = process.execPath
  const args = [scenario.file, '--subject', subject, ...(opts.quick ? ['--quick'] : [])]
  const [cmd, argv] = mode === 'pinned' ? ['taskset', ['-c', '0', node, ...args]] : [node, args]
  return new Promise(resolve => {
    const started = Date.now()
    // A mark in its environment, inherited by every process it starts: how leftovers are found.
    const mark = `${process.pid}-${++processSeq}`
    const env = { ...process.env, [MARK_ENV]: mark }
    const child = spawn(cmd, argv, { cwd: BENCH, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let result = null
    let resultAt = 0
    let timer = null
    let hung = false
    let timedOut = false
    const arm = (ms, onFire) => {
      clearTimeout(timer)
      timer = setTimeout(onFire, ms)
    }
    // No result in time: the scenario hung. Result but no exit: the process does not end by itself.
    arm(opts.timeoutS * 1000, () => {
      timedOut = true
      child.kill('SIGKILL')
    })
    child.stdout.on('data', d => {
      stdout += d
      if (result !== null) return
      const line = stdout.split('\n').find(l => l.startsWith(RESULT_MARK))
      if (line === undefined || !stdout.includes('\n', stdout.indexOf(RESULT_MARK))) return
      result = JSON.parse(line.slice(RESULT_MARK.length))
      resultAt = Date.now()
      arm(EXIT_GRACE_MS, () => {
        hung = true
        child.kill('SIGKILL')
      })
    })
    child.stderr.on('data', d => {
      stderr += d
    })
    // 'close' waits for every holder of the stdio pipes, children that outlive the scenario
    // process included: after 'exit', wait for it only so long.
    let exited = null
    let closed = false
    child.on('exit', (code, signal) => {
      exited = { code, signal }
      setTimeout(() => finish(code, signal), LEFTOVER_GRACE_MS)
    })
    child.on('close', (code, signal) => finish(exited ? exited.code : code, exited ? exited.signal : signal))
    const finish = async (code, signal) => {
      if (closed) return
      closed = true
      clearTimeout(timer)
      const left = await leftovers(mark, child.pid)
      const rec = {
        scenario: scenario.id,
        subject,
        mode,
        exitCode: code,
        signal,
        wallMs: Date.now() - started,
        exitAfterResultMs: resultAt ? Date.now() - resultAt : null,
      }
      if (result && result.metrics) rec.metrics = result.metrics
      if (result && result.error) rec.error = result.error
      if (!result) rec.error = timedOut ? `no result within ${opts.timeoutS} s (killed)` : `no result (exit ${code}, signal ${signal})`
      if (hung) rec.error = `did not exit within ${EXIT_GRACE_MS / 1000} s after its result (killed)`
      if (result && !hung && code !== 0) rec.error ??= `exit code ${code}`
      if (left.length > 0) {
        rec.leftovers = left
        rec.error = [rec.error, `left ${left.length} process(es) running after it exited (killed): ${left.map(p => `${p.pid} ${p.cmd}`).join('; ')}`]
          .filter(Boolean)
          .join('; ')
      }
      const other = stdout
        .split('\n')
        .filter(l => l && !l.startsWith(RESULT_MARK))
        .join('\n')
      if (stderr.trim() || other.trim()) rec.output = (other + '\n' + stderr).trim().slice(0, 4000)
      resolve(rec)
    }
  })
}

const MARK_ENV = 'IPC_MAIN_BENCH_PROCESS'
let processSeq = 0

/** The processes whose environment carries `mark` (a scenario process and what it started). */
function markedProcesses(mark) {
  if (!fs.existsSync('/proc')) return []
  const needle = `${MARK_ENV}=${mark}\0`
  const out = []
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue
    try {
      if (!fs.readFileSync(`/proc/${d}/environ`, 'latin1').includes(needle)) continue
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean)
      out.push({ pid: Number(d), cmd: cmd.map(a => path.relative(BENCH, a).startsWith('..') ? a : path.relative(BENCH, a)).join(' ').slice(0, 200) })
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return out
}

/**
 * Once a scenario process has exited: the processes it left running (polled for up to
 * LEFTOVER_GRACE_MS, as children may take a moment to notice), each killed by its pid.
 */
async function leftovers(mark, scenarioPid) {
  const deadline = Date.now() + LEFTOVER_GRACE_MS
  const find = () => markedProcesses(mark).filter(p => p.pid !== scenarioPid)
  let left = find()
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100))
    left = find()
  }
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {
      // Exited meanwhile.
    }
  }
  return left
}

// ---- aggregation -----------------------------------------------------------------------------

const median = xs => {
  const s = xs.slice().sort((a, b) => a - b)
  if (s.length === 0) return null
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Median of the repetitions' medians (and p90s, p99s), and how far the repetitions spread. */
function aggregate(recs, key) {
  const vals = recs.filter(r => r.metrics && r.metrics[key]).map(r => r.metrics[key])
  if (vals.length === 0) return { reps: [], failed: recs.length }
  const meds = vals.map(v => v.median)
  const agg = {
    median: median(meds),
    reps: meds,
    spread: { min: Math.min(...meds), max: Math.max(...meds) },
    failed: recs.length - vals.length,
  }
  agg.spread.relative = (agg.spread.max - agg.spread.min) / agg.median
  if (vals[0].p90 !== undefined && vals[0].runs === undefined) {
    agg.p90 = median(vals.map(v => v.p90))
    agg.p99 = median(vals.map(v => v.p99))
    agg.samplesPerRep = median(vals.map(v => v.n))
  }
  return agg
}

function evaluateTargets(scenario, metrics) {
  return (scenario.targets || []).map(t => {
    const got = metrics[t.metric]?.[t.mode]?.['ipc-main']?.median
    const threshold = t.vs !== undefined ? metrics[t.metric]?.[t.mode]?.[t.vs]?.median : t.value
    let pass = null
    if (got != null && threshold != null) pass = t.op === '<=' ? got <= threshold : got >= threshold
    return { ...t, measured: got ?? null, threshold: threshold ?? null, pass }
  })
}

// ---- console output --------------------------------------------------------------------------

function line(rec, scenario, rep, reps) {
  const head = `${scenario.id} ${rec.mode.padEnd(8)} rep ${rep + 1}/${reps} ${rec.subject.padEnd(18)}`
  if (rec.error) return `${head} ERROR: ${rec.error.split('\n')[0]}`
  const parts = scenario.metrics.map(m => {
    const v = rec.metrics[m.key]
    if (!v) return `${m.key}: —`
    const tail = m.latency ? ` (p90 ${report.num(v.p90, m.unit)}, p99 ${report.num(v.p99, m.unit)})` : ''
    return `${m.key}: ${report.fmt(v.median, m.unit)}${tail}`
  })
  return `${head} ${parts.join('  ')}  [${(rec.wallMs / 1000).toFixed(1)} s]`
}

function printSummary(scenario, entry) {
  const rows = [['metric', 'subject', ...entry.modes.flatMap(m => [`${m} median`, `${m} reps min–max (spread)`])]]
  for (const m of scenario.metrics) {
    for (const subject of scenario.subjects) {
      const cells = [m.key, subject]
      for (const mode of entry.modes) {
        const a = entry.results[m.key][mode][subject]
        if (a.median == null) cells.push('failed', '')
        else {
          const tail = m.latency ? ` (p90 ${report.num(a.p90, m.unit)}, p99 ${report.num(a.p99, m.unit)})` : ''
          cells.push(
            report.fmt(a.median, m.unit) + tail,
            `${report.num(a.spread.min, m.unit)}–${report.num(a.spread.max, m.unit)} (${(a.spread.relative * 100).toFixed(0)}%)`,
          )
        }
      }
      rows.push(cells)
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => String(r[i]).length)))
  console.log(`\n${scenario.id} ${scenario.title}`)
  for (const r of rows) console.log('  ' + r.map((c, i) => String(c).padEnd(widths[i])).join('  '))
  for (const t of entry.targetResults) {
    const mark = t.pass === null ? '?' : t.pass ? '✓' : '✗'
    console.log(`  target ${mark} ${t.label}: ${t.measured == null ? '—' : report.fmt(t.measured, scenario.metrics.find(m => m.key === t.metric).unit)}`)
  }
  console.log('')
}

// ---- main -----------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  if (opts.reportOnly) {
    report.updateReadme(README, JSON.parse(fs.readFileSync(RESULTS, 'utf8')))
    console.log(`regenerated the results section of ${path.relative(ROOT, README)} from ${path.relative(ROOT, RESULTS)}`)
    return
  }
  ensureAddon()
  ensureFloor()
  ensureDeps()
  if (opts.modes.includes('pinned') && !hasTaskset()) {
    console.log('taskset is not available: running unpinned only')
    opts.modes = opts.modes.filter(m => m !== 'pinned')
  }
  const scenarios = discover(opts.filters)
  if (scenarios.length === 0) {
    console.error(`no scenario matches ${opts.filters.join(' ')}`)
    process.exitCode = 2
    return
  }

  const runId = new Date().toISOString()
  const run = {
    date: runId,
    quick: opts.quick,
    reps: opts.reps,
    modes: opts.modes,
    scenarios: scenarios.map(s => s.id),
    machine: machine(),
    loadavgAtStart: os.loadavg().map(x => Math.round(x * 100) / 100),
    addonAtStart: addonInfo(),
    git: gitState(),
  }
  const m = run.machine
  console.log(`ipc-main benchmarks ${opts.quick ? '(quick) ' : ''}— ${runId}`)
  console.log(`${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.kernel}, node ${m.node}; peers ${JSON.stringify(m.npmPeers)}`)
  if (run.addonAtStart) console.log(`addon ${run.addonAtStart.file} sha256 ${run.addonAtStart.sha256.slice(0, 12)} (built ${run.addonAtStart.mtime})`)
  console.log(`load average ${run.loadavgAtStart.join(' ')}; ${opts.reps} reps × modes ${opts.modes.join(', ')}; scenarios ${run.scenarios.join(' ')}\n`)

  const previous = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, 'utf8')) : null
  const entries = {}
  for (const scenario of scenarios) {
    const processes = []
    // Interleaved (A B C A B C ..., unpinned and pinned in turn), so slow drifts of the
    // machine hit every subject and mode alike.
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const mode of opts.modes) {
        for (const subject of scenario.subjects) {
          const rec = await runProcess(scenario, subject, mode, opts)
          rec.rep = rep
          processes.push(rec)
          console.log(line(rec, scenario, rep, opts.reps))
          if (rec.output) console.log('    output: ' + rec.output.split('\n').slice(0, 6).join('\n    '))
        }
      }
    }
    const metrics = {}
    for (const metric of scenario.metrics) {
      metrics[metric.key] = {}
      for (const mode of opts.modes) {
        metrics[metric.key][mode] = {}
        for (const subject of scenario.subjects) {
          const recs = processes.filter(r => r.mode === mode && r.subject === subject)
          metrics[metric.key][mode][subject] = aggregate(recs, metric.key)
        }
      }
    }
    const { file, ...description } = scenario
    // `metrics` and `targets` stay the descriptions; what was measured is `results`.
    const entry = {
      ...description,
      file: path.relative(BENCH, file),
      run: runId,
      modes: opts.modes,
      results: metrics,
      targetResults: evaluateTargets(scenario, metrics),
      processes,
    }
    entries[scenario.id] = entry
    printSummary(scenario, entry)
  }
  run.loadavgAtEnd = os.loadavg().map(x => Math.round(x * 100) / 100)
  run.addonAtEnd = addonInfo()
  if (run.addonAtStart?.sha256 !== run.addonAtEnd?.sha256) {
    console.log('WARNING: the addon changed during this run (rebuilt?): its results mix two builds')
  }

  // Keep earlier results of scenarios not run now (if their file still exists), and the runs
  // they came from.
  const known = new Set(discover([]).map(s => s.id))
  const kept = {}
  for (const [id, e] of Object.entries(previous?.scenarios || {})) {
    if (!entries[id] && known.has(id)) kept[id] = e
  }
  const scenariosOut = Object.fromEntries(
    Object.entries({ ...kept, ...entries }).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })),
  )
  const usedRuns = new Set(Object.values(scenariosOut).map(e => e.run))
  const runs = Object.fromEntries(
    Object.entries({ ...(previous?.runs || {}), [runId]: run }).filter(([id]) => usedRuns.has(id)),
  )
  const out = { generatedBy: 'bench/run.js', updated: runId, runs, scenarios: scenariosOut }
  fs.writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n')
  report.updateReadme(README, out)
  console.log(`wrote ${path.relative(ROOT, RESULTS)} and the results section of ${path.relative(ROOT, README)}`)
  const failed = Object.values(entries).flatMap(e => e.processes.filter(p => p.error))
  if (failed.length > 0) {
    console.log(`${failed.length} scenario process(es) failed or did not exit by themselves:`)
    for (const f of failed) console.log(`  ${f.scenario} ${f.mode} rep ${f.rep + 1} ${f.subject}: ${f.error.split('\n')[0]}`)
    process.exitCode = 1
  }
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
