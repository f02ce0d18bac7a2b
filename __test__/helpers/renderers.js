'use strict'
// Starting renderers of every kind from the scenario fixture, and waiting for what they report.

const path = require('path')
const ipc = require('../..')

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'renderer.js')

/** How each kind of renderer is started with a scenario and its data. */
const KINDS = {
  worker: (scenario, extra = {}, options = {}) =>
    ipc.webContents.worker(FIXTURE, { ...options, workerData: { scenario, ...extra } }),
  process: (scenario, extra = {}, options = {}) =>
    ipc.webContents.fork(FIXTURE, [JSON.stringify({ scenario, ...extra })], options),
}

const started = []

/** Remembers a WebContents and promises for its end, so `cleanUp` can wait for it. */
function track(wc) {
  wc.gone = new Promise(resolve => wc.once('render-process-gone', (event, details) => resolve(details)))
  wc.destroyedEvent = new Promise(resolve => wc.once('destroyed', resolve))
  started.push(wc)
  return wc
}

function start(kind, scenario, extra, options) {
  return track(KINDS[kind](scenario, extra, options))
}

/** The next `count` reports of a renderer. */
function reports(wc, count = 1) {
  return new Promise(resolve => {
    const got = []
    wc.ipc.on('report', (event, value) => {
      got.push(value)
      if (got.length === count) resolve(count === 1 ? got[0] : got)
    })
  })
}

const once = (emitter, name) => new Promise(resolve => emitter.once(name, (...args) => resolve(args)))

/** `promise`, or a failure naming `what` if it has not settled within `ms` (a liveness bound). */
function bounded(promise, ms, what) {
  let timer
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Proof that main still serves renderers: a new one of `kind` has its invoke answered. */
async function stillServes(kind) {
  ipc.ipcMain.removeHandler('add')
  ipc.ipcMain.handle('add', (event, a, b) => a + b)
  // the scenario's other invokes have no handler here: main logs each of them
  const error = jest.spyOn(console, 'error').mockImplementation(() => {})
  try {
    expect((await reports(start(kind, 'invoke'))).value).toEqual({ value: 5 })
    expect(error).toHaveBeenCalledWith("Error occurred in handler for 'missing':", expect.any(Error))
  } finally {
    error.mockRestore()
  }
}

/** For afterEach: destroys everything, waits until every renderer is gone, checks nothing is left. */
async function cleanUp() {
  const all = started.splice(0)
  ipc.reset()
  await Promise.all(all.map(wc => wc.destroyedEvent))
  expect(ipc.diagnostics()).toEqual({ pendingRequests: 0, queuedMessages: 0, webContents: 0, polledConnections: 0 })
}

module.exports = { FIXTURE, KINDS, start, track, reports, once, bounded, stillServes, cleanUp }
