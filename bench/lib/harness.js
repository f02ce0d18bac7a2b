'use strict'
// What a scenario process (and its worker threads) share: the clock, the statistics, the loops
// that take latency samples, and the protocol by which one process hands its result to run.js.
//
// A scenario file is `scenarios/<group letter><n>-<name>.js`. It calls defineScenario(module, def):
// required by run.js it only describes itself; run as `node <file> --subject <name> [--quick]`
// it measures that one subject in this fresh process and prints one RESULT_MARK line.

const path = require('path')
const fs = require('fs')
const { execFileSync } = require('child_process')

const ROOT = path.resolve(__dirname, '..', '..')
const RESULT_MARK = '@@bench-result@@ '

/** ipc-main, from the repo root, by absolute path (workers resolve it the same way). */
function requireIpcMain() {
  return require(ROOT)
}

// process.hrtime is one monotonic clock for every thread of the process (performance.now() is
// not: each worker has its own time origin), so worker and main timestamps can be subtracted.
const hr = process.hrtime.bigint
const nowNs = () => Number(hr())

function percentile(sorted, p) {
  // Nearest rank.
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  return sorted[i]
}

/** median / p90 / p99 / min / max of numbers (any unit). */
function summarize(values) {
  const s = Float64Array.from(values).sort()
  return {
    n: s.length,
    median: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    min: s[0],
    max: s[s.length - 1],
  }
}

/** Throughput runs (items per second each): their median, and the runs themselves. */
function summarizeRuns(perSecond) {
  const s = summarize(perSecond)
  return { n: s.n, median: s.median, min: s.min, max: s.max, runs: perSecond }
}

/**
 * Latency of a synchronous call, in µs: `warmup` untimed calls, then up to `samples` timed ones
 * (fewer if `budgetMs` runs out first, but at least `minSamples`).
 */
function latencySync(fn, { warmup, samples, budgetMs = 5000, minSamples = 50 }) {
  for (let i = 0; i < warmup; i++) fn(i)
  const out = new Float64Array(samples)
  const deadline = nowNs() + budgetMs * 1e6
  let n = 0
  for (; n < samples; n++) {
    const t0 = hr()
    fn(n)
    const t1 = hr()
    out[n] = Number(t1 - t0) / 1e3
    if (n >= minSamples && (n & 63) === 0 && Number(t1) > deadline) {
      n++
      break
    }
  }
  return summarize(out.subarray(0, n))
}

/** As latencySync, for a call that returns a promise (awaited one at a time). */
async function latencyAsync(fn, { warmup, samples, budgetMs = 5000, minSamples = 50 }) {
  for (let i = 0; i < warmup; i++) await fn(i)
  const out = new Float64Array(samples)
  const deadline = nowNs() + budgetMs * 1e6
  let n = 0
  for (; n < samples; n++) {
    const t0 = hr()
    await fn(n)
    const t1 = hr()
    out[n] = Number(t1 - t0) / 1e3
    if (n >= minSamples && Number(t1) > deadline) {
      n++
      break
    }
  }
  return summarize(out.subarray(0, n))
}

const FLOOR = path.join(__dirname, '..', 'floor', 'target', 'release', 'floor')

/**
 * The native floor of a scenario (bench/floor: the same exchange in Rust, no JS, no event loop),
 * run in this process's place and affinity: its samples summarized like the others'.
 * `what`: ['threads', 'spin'], ['sockets', 'blocking'], ['echo', bytes], ….
 */
function nativeFloor(what, { warmup, samples }) {
  if (!fs.existsSync(FLOOR)) {
    throw new Error(`${FLOOR} is missing: cargo build --release --manifest-path bench/floor/Cargo.toml (run.js does it)`)
  }
  const out = execFileSync(FLOOR, [...what.map(String), String(samples), String(warmup)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  return summarize(JSON.parse(out).samples)
}

function parseArgs(argv) {
  const at = argv.indexOf('--subject')
  return { subject: at >= 0 ? argv[at + 1] : undefined, quick: argv.includes('--quick') }
}

function describe(def) {
  return {
    id: def.id,
    group: def.group,
    groupTitle: def.groupTitle,
    title: def.title,
    how: def.how,
    metrics: def.metrics,
    subjects: Object.keys(def.subjects),
    subjectLabels: def.subjectLabels || {},
    missing: def.missing || [],
    targets: def.targets || [],
    // 'scale' (C5): the subjects are sizes of one ipc-main setup, tabled against each other.
    ...(def.layout ? { layout: def.layout } : {}),
  }
}

/**
 * Exports the scenario's description; when the file is the process's entry point, measures the
 * subject named on the command line and prints its result. Never calls process.exit: run.js
 * checks that the process ends by itself once the result is out.
 */
function defineScenario(mod, def) {
  mod.exports = describe(def)
  mod.exports.file = mod.filename
  if (require.main !== mod) return
  const { subject, quick } = parseArgs(process.argv.slice(2))
  const run = def.subjects[subject]
  if (run === undefined) {
    console.error(`${def.id}: unknown subject ${subject}; have ${Object.keys(def.subjects).join(', ')}`)
    process.exitCode = 2
    return
  }
  Promise.resolve()
    .then(() => run({ quick }))
    .then(
      metrics => {
        process.stdout.write(RESULT_MARK + JSON.stringify({ metrics }) + '\n')
      },
      err => {
        process.stdout.write(RESULT_MARK + JSON.stringify({ error: String((err && err.stack) || err) }) + '\n')
        process.exitCode = 1
      },
    )
}

/** A promise and its resolve function, for "wait until the listener saw everything". */
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/**
 * Main's side of the burst protocol (B3, C3): the renderer sends `n` messages, then an end
 * marker with its start time; main counts them and answers "next" until `runs` runs (after
 * `warmupRuns`) are in. `message()` per message; `end(t0)` per marker returns true when another
 * run follows (answer "next"); `done` resolves to `{ send: summary of msg/s }`, or rejects if a
 * run saw fewer than `n` or `fail(err)` was called.
 */
function burstCounter({ n, runs, warmupRuns }) {
  const done = deferred()
  const rates = []
  let seen = 0
  let lastAt = 0
  let run = 0
  return {
    done: done.promise,
    fail: done.reject,
    message() {
      if (++seen === n) lastAt = nowNs()
    },
    end(t0) {
      if (seen !== n) {
        done.reject(new Error(`run ${run}: main saw ${seen} of ${n} messages before the end marker`))
        return false
      }
      if (run++ >= warmupRuns) rates.push((n / (lastAt - Number(t0))) * 1e9)
      seen = 0
      if (run < warmupRuns + runs) return true
      done.resolve({ send: summarizeRuns(rates) })
      return false
    },
  }
}

module.exports = {
  ROOT,
  RESULT_MARK,
  requireIpcMain,
  nowNs,
  hr,
  summarize,
  summarizeRuns,
  latencySync,
  latencyAsync,
  FLOOR,
  nativeFloor,
  defineScenario,
  deferred,
  burstCounter,
}
