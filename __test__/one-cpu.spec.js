'use strict'
// Where a process may run on one CPU only (`taskset -c 0`), ipc-main waits differently: a blocked
// sendSync yields the CPU at once instead of spinning on it, and a loop expecting a message
// yields on every turn and answers rings in a row (core/anticipation.rs, binding/doorbell.rs).
// Those paths only run pinned, so these tests pin a main of their own (fixtures/one-cpu-main.js)
// with a worker and a process renderer, and check what it saw and that it exits by itself.

const path = require('path')
const { spawn, spawnSync } = require('child_process')

const FIXTURE = path.join(__dirname, 'fixtures', 'one-cpu-main.js')
// A liveness bound, far above the few seconds it takes: past it the main is killed and fails.
const BOUND_MS = 60000

/** Runs `argv` to its end (killed past BOUND_MS): its exit code, signal and output. */
function run(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

const EVERY_CHECK_PASSED = {
  calls: 1000,
  inOrder: true,
  mismatches: 0,
  payloads: 21,
  failed: 0,
}

function lastLine(text) {
  const lines = text.trim().split('\n')
  return JSON.parse(lines[lines.length - 1])
}

/** The CPUs this process may run on, as taskset lists them (`0-1`, `0,2`, …): the first one. */
function firstAllowedCpu() {
  const r = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' })
  // util-linux's taskset is on every Linux this package is tested on; say so if it is not.
  expect(r.status).toBe(0)
  return Number(/list:\s*(\d+)/.exec(r.stdout)[1])
}

/** How many CPUs this process may run on (its affinity, which is what ipc-main reads too). */
function allowedCpus() {
  return Number(spawnSync('nproc', { encoding: 'utf8', env: { PATH: process.env.PATH } }).stdout)
}

test('pinned to one CPU: 1000 mixed calls in order and 0 B to 3 MiB + 1 payloads intact, from a worker and a process renderer; main exits by itself', async () => {
  const r = await run(['taskset', '-c', String(firstAllowedCpu()), process.execPath, FIXTURE])
  expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' })
  expect(lastLine(r.stdout)).toEqual({
    oneCpu: true,
    worker: EVERY_CHECK_PASSED,
    process: EVERY_CHECK_PASSED,
    answeredInARow: true,
  })
}, BOUND_MS + 5000)

test('unpinned, the same main knows whether it has more than one CPU, and sees the same', async () => {
  const r = await run([process.execPath, FIXTURE])
  expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' })
  const alone = allowedCpus() <= 1
  expect(lastLine(r.stdout)).toEqual({
    oneCpu: alone,
    worker: EVERY_CHECK_PASSED,
    process: EVERY_CHECK_PASSED,
    answeredInARow: alone,
  })
}, BOUND_MS + 5000)
