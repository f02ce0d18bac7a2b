'use strict'
// `node -r ipc-main/register app.js`: makes `require('electron')` load ipc-main, so Electron
// main-process code (and the documentation's snippets) run unchanged under plain Node.
// Only the bare name 'electron' is redirected; everything else resolves as usual.

const Module = require('module')
const path = require('path')

const target = path.join(__dirname, 'index.js')
const resolve = Module._resolveFilename

Module._resolveFilename = function resolveElectron(request, ...rest) {
  if (request === 'electron') return target
  return resolve.call(this, request, ...rest)
}
