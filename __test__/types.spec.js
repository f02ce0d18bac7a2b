'use strict'
// index.d.ts against Electron-style typed code: __test__/fixtures/typed-example.ts must compile
// with zero diagnostics (strict, noEmit), importing the package both as 'electron' (mapped, as
// the jest moduleNameMapper does) and by path; and a deliberately wrong program must not.

const path = require('path')
const ts = require('typescript')

const ROOT = path.join(__dirname, '..')
const FIXTURES = path.join(__dirname, 'fixtures')
const EXAMPLE = path.join(FIXTURES, 'typed-example.ts')

const OPTIONS = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  types: ['node'],
  typeRoots: [path.join(ROOT, 'node_modules', '@types')],
  baseUrl: ROOT,
  paths: { electron: ['./index.d.ts'] },
  // index.d.ts is a declaration file: check it too.
  skipLibCheck: false,
  noUnusedLocals: false,
}

/** A program of `files` (real paths) plus `virtual` (path -> source). */
function createProgram(files, virtual = {}) {
  const host = ts.createCompilerHost(OPTIONS, true)
  const own = name => Object.prototype.hasOwnProperty.call(virtual, name)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  host.getSourceFile = (name, languageVersion, ...rest) =>
    own(name) ? ts.createSourceFile(name, virtual[name], languageVersion, true) : getSourceFile(name, languageVersion, ...rest)
  host.fileExists = name => own(name) || fileExists(name)
  host.readFile = name => (own(name) ? virtual[name] : readFile(name))
  return ts.createProgram([...files, ...Object.keys(virtual)], OPTIONS, host)
}

function format(diagnostics) {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: f => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  })
}

const WRONG = path.join(FIXTURES, '__wrong-example__.ts')
const WRONG_SOURCE = [
  "import { ipcMain, ipcRenderer, webContents } from 'electron'",
  "import type { IpcMainInvokeEvent } from 'electron'",
  // line 3: a channel must be a string
  'ipcMain.on(42, () => {})',
  // line 4: invoke gives a promise
  "const n: number = ipcRenderer.invoke('x')",
  // line 5: an invoke event has no reply
  "ipcMain.handle('x', (e: IpcMainInvokeEvent) => e.reply('y'))",
  // line 6: WebContents has no sendSync (there is no main-to-renderer sendSync)
  "webContents.create().sendSync('x')",
  // line 7: no such export
  "import { BrowserWindow } from 'electron'",
  'void n',
  'void BrowserWindow',
].join('\n')

// Type-checking @types/node takes a few seconds: one program serves every test.
let program
let diagnostics

beforeAll(() => {
  program = createProgram([EXAMPLE], { [WRONG]: WRONG_SOURCE })
  diagnostics = ts.getPreEmitDiagnostics(program)
}, 120000)

describe('index.d.ts', () => {
  test("a typed example using the public API with Electron's type names compiles with zero diagnostics", () => {
    const mine = diagnostics.filter(d => !d.file || d.file.fileName !== WRONG)
    expect(format(mine)).toBe('')
    expect(mine.length).toBe(0)
  })

  test('the example really resolved index.d.ts both as "electron" and by path', () => {
    const files = program.getSourceFiles().map(f => path.resolve(f.fileName))
    expect(files).toContain(path.join(ROOT, 'index.d.ts'))
    const example = program.getSourceFile(EXAMPLE)
    const checker = program.getTypeChecker()
    const typeOf = name => {
      let found
      ts.forEachChild(example, function visit(node) {
        if (ts.isVariableDeclaration(node) && node.name.getText() === name) {
          found = checker.typeToString(checker.getTypeAtLocation(node.initializer))
        }
        ts.forEachChild(node, visit)
      })
      return found
    }
    // the types come from index.d.ts, not from `any`
    expect(typeOf('main')).toBe('IpcMain')
    expect(typeOf('sameMain')).toBe('IpcMain')
    expect(typeOf('contents')).toBe('InProcessWebContents')
  })

  test('deliberately wrong calls produce diagnostics, one line each', () => {
    const wrong = diagnostics.filter(d => d.file && d.file.fileName === WRONG)
    const lines = [...new Set(wrong.map(d => d.file.getLineAndCharacterOfPosition(d.start).line + 1))]
    expect(lines.sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7])
  })
})
