'use strict'
// What is particular to renderers in worker threads (`webContents.worker`); what they share with
// renderer processes is in renderers.spec.js.

const path = require('path')
const { execFileSync } = require('child_process')
const { Worker, SHARE_ENV } = require('worker_threads')
const ipc = require('..')
const { FIXTURE, start, reports, once, bounded, stillServes, cleanUp } = require('./helpers/renderers')

const { ipcMain, webContents } = ipc
const HOST_FIXTURE = path.join(__dirname, 'fixtures', 'host-main.js')
// A liveness bound for child processes and threads, not a timing assertion.
const EXIT_BOUND_MS = 30000

afterEach(cleanUp)

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
  const wc = start(
    'worker',
    'options',
    { extra: { a: [1] } },
    { argv: ['--flag', 7], env: { ...process.env, IPC_MAIN_TEST_VAR: 'yes' }, execArgv: ['--no-deprecation', '--no-warnings'] },
  )
  // without `stdin: true` a Worker has no stdin
  expect(wc.stdin).toBeNull()
  const r = await reports(wc)
  expect(r).toMatchObject({ workerData: { a: [1] }, argv: ['--flag', '7'], env: 'yes', execArgv: ['--no-deprecation', '--no-warnings'] })
  expect(r.rendererEnv).toBeUndefined()
})

test('getOSProcessId() of an in-process renderer is this process id', () => {
  expect(webContents.create().getOSProcessId()).toBe(process.pid)
})

test('env: SHARE_ENV is refused with a code', () => {
  expect(() => webContents.worker(FIXTURE, { env: SHARE_ENV })).toThrow(expect.objectContaining({ code: 'ERR_IPC_INVALID_ARG' }))
  expect(webContents.getAllWebContents()).toEqual([])
})

describe('nothing keeps a process alive, nothing hangs its exit', () => {
  const run = script =>
    execFileSync(process.execPath, ['-e', script], {
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
      timeout: EXIT_BOUND_MS,
      // the invoke scenario's unhandled channels make those mains log: kept off the test output
      stdio: ['ignore', 'pipe', 'pipe'],
    })

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

  // A main hosted in a plain worker thread (not a renderer) whose renderer worker is blocked in
  // sendSync in the core when that thread is torn down: the wait must give way.
  test.each([
    ['calls process.exit()', 'exit', 4],
    ['is terminated', 'terminate', 1],
  ])('a main in a worker thread that %s while its renderer worker is blocked in sendSync ends', async (what, how, code) => {
    const host = new Worker(HOST_FIXTURE, { workerData: { how } })
    const exited = once(host, 'exit')
    const [message] = await once(host, 'message')
    expect(message).toBe('blocked')
    if (how === 'terminate') host.terminate()
    const [exitCode] = await bounded(exited, EXIT_BOUND_MS, "the host worker's exit")
    expect(exitCode).toBe(code)
    // and this process is fine: new renderers work
    await stillServes('worker')
    await stillServes('process')
  }, EXIT_BOUND_MS + 5000)
})
