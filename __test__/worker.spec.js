'use strict'
// What is particular to renderers in worker threads (`webContents.worker`); what they share with
// renderer processes is in renderers.spec.js.

const path = require('path')
const { execFileSync } = require('child_process')
const { SHARE_ENV } = require('worker_threads')
const ipc = require('..')
const { FIXTURE, start, track, reports, once, cleanUp } = require('./helpers/renderers')

const { ipcMain, webContents } = ipc
const DOC_FIXTURE = path.join(__dirname, 'fixtures', 'doc-renderer.js')
// A liveness bound for child processes, not a timing assertion.
const EXIT_BOUND_MS = 30000

afterEach(cleanUp)

test.each(['en', 'ko'])('the %s documentation renderer snippet runs unchanged in a worker against the main snippet', async language => {
  const printedByMain = []
  const log = jest.spyOn(console, 'log').mockImplementation((...args) => printedByMain.push(args.join(' ')))
  try {
    let wc
    const printedByRenderer = []
    jest.isolateModules(() => {
      const electron = require('electron')
      require(`./fixtures/docs/${language}-main.js`)
      wc = track(electron.webContents.worker(DOC_FIXTURE, { workerData: { language } }))
      electron.ipcMain.on('printed', (event, line) => printedByRenderer.push(line))
    })
    while (printedByRenderer.length < 2) await new Promise(resolve => setTimeout(resolve, 5))
    expect(printedByRenderer).toEqual(['pong', 'pong'])
    expect(printedByMain).toEqual(['ping', 'ping'])
    wc.destroy()
    expect((await wc.gone).reason).toBe('killed')
  } finally {
    log.mockRestore()
  }
})

test('a worker that throws is gone as "crashed", with the error in the details', async () => {
  const wc = start('worker', 'exit', { how: 'throw' })
  await once(ipcMain, 'started')
  const details = await wc.gone
  expect(details).toMatchObject({ reason: 'crashed', exitCode: 1 })
  expect(details.error.message).toBe('renderer failed')
})

test('a crash nobody listens for is logged, not lost', async () => {
  const error = jest.spyOn(console, 'error').mockImplementation(() => {})
  try {
    const wc = webContents.worker(FIXTURE, { workerData: { scenario: 'exit', how: 'throw' } })
    await new Promise(resolve => wc.once('destroyed', resolve))
    expect(error).toHaveBeenCalledWith(
      `WebContents #${wc.id} (worker ${FIXTURE}) crashed:`,
      expect.objectContaining({ message: 'renderer failed' }),
    )
  } finally {
    error.mockRestore()
  }
})

test('a worker that exceeds its resourceLimits is gone with reason "oom"', async () => {
  const wc = start('worker', 'oom', {}, { resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
  expect((await wc.gone).reason).toBe('oom')
})

test('options are passed to the Worker; the renderer variable does not leak to user code', async () => {
  const r = await reports(
    start('worker', 'options', { extra: { a: [1] } }, { argv: ['--flag', 7], env: { ...process.env, IPC_MAIN_TEST_VAR: 'yes' } }),
  )
  expect(r).toMatchObject({ workerData: { a: [1] }, argv: ['--flag', '7'], env: 'yes' })
  expect(r.rendererEnv).toBeUndefined()
})

test('env: SHARE_ENV is refused with a code', () => {
  expect(() => webContents.worker(FIXTURE, { env: SHARE_ENV })).toThrow(expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG' }))
  expect(webContents.getAllWebContents()).toEqual([])
})

describe('nothing keeps a process alive, nothing hangs its exit', () => {
  const run = script =>
    execFileSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: EXIT_BOUND_MS })

  test('main exits by itself once its worker renderers have exited', () => {
    const out = run(`
      const { ipcMain, webContents } = require('.')
      ipcMain.handle('add', (e, a, b) => a + b)
      const wc = webContents.worker(${JSON.stringify(FIXTURE)}, { workerData: { scenario: 'invoke' } })
      wc.ipc.on('report', (e, r) => console.log('value', r.value.value))
      wc.on('destroyed', () => console.log('destroyed'))
    `)
    expect(out).toBe('value 5\ndestroyed\n')
  })

  test('process.exit() in main while a worker is blocked in sendSync exits', () => {
    const script = `
      const { ipcMain, webContents } = require('.')
      ipcMain.on('never', event => { globalThis.held = event; setImmediate(() => process.exit(7)) })
      webContents.worker(${JSON.stringify(FIXTURE)}, { workerData: { scenario: 'blocked' } })
    `
    let status
    try {
      run(script)
    } catch (err) {
      status = err.status
    }
    expect(status).toBe(7)
  })
})
