'use strict'
// B1's synckit worker: answers with its argument.
const { runAsWorker } = require('synckit')

runAsWorker(async i => i)
