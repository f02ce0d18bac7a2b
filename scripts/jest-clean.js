#!/usr/bin/env node
'use strict'
// Runs jest with --detectOpenHandles (and never --forceExit), and fails when it reports an open
// handle or does not exit by itself soon after its summary: a test that leaves something alive
// fails here, instead of passing with a warning or hanging CI. Arguments go on to jest.

const { spawn } = require('child_process')

// After the summary, jest must be gone within this long (it waits 1 s before its own warning).
const EXIT_GRACE_MS = 30000
const LEAKS = [/open handles? potentially keeping Jest from exiting/, /Jest did not exit one second after/]

const jest = require.resolve('jest/bin/jest')
const child = spawn(process.execPath, [jest, '--detectOpenHandles', ...process.argv.slice(2)], {
  stdio: ['inherit', 'pipe', 'pipe'],
})

let tail = ''
let leak = null
let timer = null
function watch(chunk, out) {
  out.write(chunk)
  tail = (tail + chunk.toString('utf8')).slice(-4096)
  for (const pattern of LEAKS) if (leak === null && pattern.test(tail)) leak = pattern.source
  if (timer === null && /^Ran all test suites/m.test(tail)) {
    timer = setTimeout(() => {
      leak = leak ?? `jest did not exit within ${EXIT_GRACE_MS / 1000} s of its summary`
      child.kill('SIGKILL')
    }, EXIT_GRACE_MS)
    timer.unref()
  }
}
child.stdout.on('data', chunk => watch(chunk, process.stdout))
child.stderr.on('data', chunk => watch(chunk, process.stderr))
child.on('exit', (code, signal) => {
  if (timer !== null) clearTimeout(timer)
  if (leak !== null) {
    console.error(`\njest-clean: failing the run: ${leak}`)
    process.exitCode = 1
  } else {
    process.exitCode = code ?? 1
    if (signal) console.error(`\njest-clean: jest ended by ${signal}`)
  }
})
