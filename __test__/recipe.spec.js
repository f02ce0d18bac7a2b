'use strict'
// The README's jest recipe as users write it: a project of its own with `ipc-main` installed (a
// symlink to this repository), the README's jest config in its package.json, and the README's
// main.js and main.test.js (examples/jest/, checked to be the README's text), run by this
// repository's jest in a child process.

const childProcess = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js')
const EXAMPLE = path.join(ROOT, 'examples', 'jest')
// Not a timing assertion: only how long a hung child may take before it is killed.
const LIVENESS_MS = 120000

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const mainJs = fs.readFileSync(path.join(EXAMPLE, 'main.js'), 'utf8')
const mainTestJs = fs.readFileSync(path.join(EXAMPLE, 'main.test.js'), 'utf8')

/** The fenced ```language blocks of the README section whose heading is `heading`. */
function readmeBlocks(heading, language) {
  const start = readme.indexOf(`\n${heading}\n`)
  expect(start).toBeGreaterThanOrEqual(0)
  const rest = readme.slice(start + heading.length + 2)
  const next = rest.search(/^#{1,6} /m)
  const section = next === -1 ? rest : rest.slice(0, next)
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm')
  return [...section.matchAll(fence)].map(m => m[1])
}

const SECTION = '### Testing Electron main-process code with jest'

/** Runs a command to its end (killed after LIVENESS_MS); resolves with how it ended and its output. */
function run(file, args, options) {
  return new Promise(resolve => {
    childProcess.execFile(
      file,
      args,
      { ...options, timeout: LIVENESS_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? error.code : 0,
          killed: error ? error.killed : false,
          signal: error ? error.signal : null,
          stdout,
          stderr,
        })
      },
    )
  })
}

const stripAnsi = text => text.replace(/\u001b\[[0-9;]*m/g, '')

describe("the README's jest recipe", () => {
  test('the README shows examples/jest/main.js and main.test.js verbatim', () => {
    const js = readmeBlocks(SECTION, 'js')
    expect(js.length).toBe(1)
    expect(js[0]).toBe(`${mainJs}\n${mainTestJs}`)
  })

  test('the README gives the jest config testEnvironment node, electron mapped to ipc-main', () => {
    const json = readmeBlocks(SECTION, 'json')
    expect(json.length).toBe(1)
    expect(JSON.parse(json[0])).toEqual({
      jest: { testEnvironment: 'node', moduleNameMapper: { '^electron$': 'ipc-main' } },
    })
  })

  test(
    "in a project of its own, jest runs the README's main.test.js against its main.js and every test passes",
    async () => {
      const [config] = readmeBlocks(SECTION, 'json')
      const tests = mainTestJs.match(/^test\(/gm) ?? []
      expect(tests.length).toBeGreaterThan(0)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-main-recipe-'))
      const link = path.join(dir, 'node_modules', 'ipc-main')
      try {
        fs.mkdirSync(path.dirname(link))
        fs.symlinkSync(ROOT, link, 'dir')
        const pkg = { name: 'recipe-app', version: '1.0.0', private: true, ...JSON.parse(config) }
        fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
        fs.writeFileSync(path.join(dir, 'main.js'), mainJs)
        fs.writeFileSync(path.join(dir, 'main.test.js'), mainTestJs)
        // As a user's shell would start it: not as a worker of this jest, and without colours.
        const env = { ...process.env, FORCE_COLOR: '0' }
        for (const name of ['JEST_WORKER_ID', 'IPC_MAIN_ADDRESS', 'IPC_MAIN_TOKEN', 'IPC_MAIN_RENDERER']) delete env[name]
        const result = await run(process.execPath, [JEST, '--rootDir', dir, '--ci'], { cwd: dir, env })
        const output = stripAnsi(result.stdout + result.stderr)
        const ended = { killed: result.killed, signal: result.signal, code: result.code }
        // On failure the child's output is part of the difference shown.
        const ok = !ended.killed && ended.signal === null && ended.code === 0
        expect(ok ? ended : { ...ended, output }).toEqual({ killed: false, signal: null, code: 0 })
        expect(output).toMatch(/^PASS \.?\/?main\.test\.js/m)
        expect(output).toMatch(/^Test Suites: +1 passed, 1 total$/m)
        expect(output).toMatch(new RegExp(`^Tests: +${tests.length} passed, ${tests.length} total$`, 'm'))
        expect(output).not.toMatch(/did not exit|open handle/i)
      } finally {
        // The link first, on its own, so that nothing can reach the repository through it.
        if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(link)
        fs.rmSync(dir, { recursive: true, force: true })
      }
      expect(fs.existsSync(dir)).toBe(false)
      expect(fs.existsSync(path.join(ROOT, 'package.json'))).toBe(true)
    },
    LIVENESS_MS + 60000,
  )
})
