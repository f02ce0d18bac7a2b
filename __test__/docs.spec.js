'use strict'
// The code blocks of Electron's ipcMain documentation, unchanged (fixtures/docs/, copied byte
// for byte from the five language versions), with `electron` mapped to this package: by jest's
// moduleNameMapper (package.json), as users do, and by `node -r ipc-main/register`.

const path = require('path')
const { execFileSync } = require('child_process')

const ROOT = path.join(__dirname, '..')
const DOCS = path.join(__dirname, 'fixtures', 'docs')
const LANGUAGES = ['en', 'id', 'ko', 'ru', 'zh']
const turn = () => new Promise(resolve => setImmediate(resolve))

// A liveness bound, not a timing assertion: a script that does not exit by itself fails here.
const EXIT_BOUND_MS = 30000

describe.each(LANGUAGES)('the %s documentation example', language => {
  const main = path.join(DOCS, `${language}-main.js`)
  const renderer = path.join(DOCS, `${language}-renderer.js`)

  test('runs unchanged under jest with electron mapped to ipc-main, printing what its comments say', async () => {
    const printed = []
    const log = jest.spyOn(console, 'log').mockImplementation((...args) => printed.push(args.join(' ')))
    try {
      jest.isolateModules(() => {
        require(main)
        require(renderer)
      })
      // sendSync is answered before it returns: main printed "ping", the renderer "pong".
      expect(printed).toEqual(['ping', 'pong'])
      // send is asynchronous: nothing more until the event loop turns.
      await turn()
      expect(printed).toEqual(['ping', 'pong', 'ping', 'pong'])
    } finally {
      log.mockRestore()
    }
  })

  test('runs unchanged in plain Node with `node -r ipc-main/register`, and exits by itself', () => {
    const out = execFileSync(
      process.execPath,
      ['-r', path.join(ROOT, 'register.js'), '-e', `require(${JSON.stringify(main)}); require(${JSON.stringify(renderer)})`],
      { encoding: 'utf8', timeout: EXIT_BOUND_MS },
    )
    expect(out).toBe('ping\npong\nping\npong\n')
  })
})

test('`npm start` (examples/ping-pong.js) prints ping, pong, ping, pong and exits by itself', () => {
  const pkg = require('../package.json')
  expect(pkg.scripts.start).toBe('node -r ./register.js examples/ping-pong.js')
  const out = execFileSync(process.execPath, ['-r', './register.js', 'examples/ping-pong.js'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: EXIT_BOUND_MS,
  })
  expect(out).toBe('ping\npong\nping\npong\n')
})

test('register maps only the bare name `electron`', () => {
  const out = execFileSync(
    process.execPath,
    [
      '-r',
      path.join(ROOT, 'register.js'),
      '-e',
      `const e = require('electron'); const i = require(${JSON.stringify(ROOT)});
       console.log(e === i, typeof require('events').EventEmitter)
       try { require('electron/x') } catch (err) { console.log(err.code) }`,
    ],
    { encoding: 'utf8', timeout: EXIT_BOUND_MS },
  )
  expect(out).toBe('true function\nMODULE_NOT_FOUND\n')
})

test("the README's jest recipe is examples/jest, verbatim (and that runs as part of npm test)", () => {
  const fs = require('fs')
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  for (const file of ['main.js', 'main.test.js']) {
    expect(readme).toContain(fs.readFileSync(path.join(ROOT, 'examples', 'jest', file), 'utf8'))
  }
  expect(require('../package.json').jest.testMatch).toContain('<rootDir>/examples/**/*.test.js')
})

test("the README's ping-pong example is examples/ping-pong.js's code, verbatim", () => {
  const fs = require('fs')
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const code = fs.readFileSync(path.join(ROOT, 'examples', 'ping-pong.js'), 'utf8').split('\n\n').slice(1).join('\n\n')
  expect(readme).toContain(code.trim())
})
