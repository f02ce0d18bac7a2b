'use strict'
// The addon and the conventions shared with src/lib.rs. Nothing here routes: it only names
// the numbers the core uses and turns its errors into errors of this realm.

const binding = require('../binding.js')
const clone = require('./clone')

// Large messages are encoded straight into memory the addon takes over when they are sent
// (where the runtime refuses external memory, into ordinary Buffers).
function lend(size) {
  try {
    return binding.allocPayload(size)
  } catch (err) {
    if (err !== null && typeof err === 'object' && err.code === 'ERR_IPC_NO_EXTERNAL_MEMORY') {
      clone.setLargeAllocator(null)
    }
    return null
  }
}
clone.setLargeAllocator(lend)

// Message kinds (src/core/envelope.rs).
const Kind = Object.freeze({
  SEND: 1,
  POST: 2,
  SYNC: 3,
  INVOKE: 4,
  MESSAGE: 5,
  INVOKE_REPLY: 6,
  // control, from the core: a renderer process connected; a connection ended; a connection failed
  CONNECTED: 8,
  GONE: 9,
  DIAGNOSTIC: 10,
})

// Reply statuses (src/core/envelope.rs).
const Status = Object.freeze({
  OK: 0,
  HANDLER_ERROR: 1,
  NO_HANDLER: 2,
  NEVER_SENT: 3,
  NO_LISTENER: 4,
  NOT_ANSWERED: 5,
  CONTEXT_RELEASED: 6,
  DISCONNECTED: 7,
})

// Route bits of a main-bound message, decided by the core at dispatch time.
const Route = Object.freeze({
  CONTENTS_EVENT: 1,
  CONTENTS_IPC: 2,
  MAIN: 4,
  HANDLER_CONTENTS: 8,
  HANDLER_MAIN: 16,
  UNANSWERED: 32,
})

// Registry scopes (src/lib.rs `scope`).
const Scope = Object.freeze({ MAIN: 0, CONTENTS_IPC: 1, CONTENTS_EVENTS: 2 })

// Renderer kinds (src/core/renderers.rs).
const RendererKind = Object.freeze({ IN_PROCESS: 1, WORKER: 2, PROCESS: 3 })

// Scratch buffer layout: a header of u32 words, then the payload.
const HEADER_BYTES = 32
// `next`/`takeInline`/`syncBlocking` results below zero.
const NONE = -1
const LARGE = -2
const DONE = -3
// Set in a count from `next`: that batch emptied the mailbox, which went idle (a push wakes it).
const DRAINED = 0x40000000
const COUNT = 0xffff
const STATUS_BASE = -100

// Channel names travel as interned numbers; both directions are cached per module instance.
const channelIds = new Map()
const channelNames = []

// A burst usually repeats one channel: its id is kept at hand.
let lastName = null
let lastId = 0

function channelId(name) {
  if (name === lastName) return lastId
  let id = channelIds.get(name)
  if (id === undefined) {
    id = binding.internChannel(name)
    channelIds.set(name, id)
    channelNames[id] = name
  }
  lastName = name
  lastId = id
  return id
}

function channelName(id) {
  let name = channelNames[id]
  if (name === undefined) {
    name = binding.channelName(id)
    channelNames[id] = name
    channelIds.set(name, id)
  }
  return name
}

const TYPE_ERRORS = new Set(['ERR_IPC_OBJECT_DESTROYED', 'ERR_INVALID_ARG_TYPE'])

function ipcError(message, code, Ctor = Error) {
  const err = new Ctor(message)
  err.code = code
  return err
}

// Native errors come from Node's main realm (under jest, `instanceof Error` fails on them):
// rebuild them here with the same message and code.
// Anything else the addon throws (a caught Rust panic, a napi failure: codes like
// 'GenericFailure') is a bug of ours, reported as ERR_IPC_INTERNAL rather than as napi's status.
function wrap(err) {
  if (err === null || typeof err !== 'object' || typeof err.code !== 'string') return err
  if (!err.code.startsWith('ERR_')) {
    return ipcError(`ipc-main internal error (${err.code}): ${err.message}`, 'ERR_IPC_INTERNAL')
  }
  const Ctor = TYPE_ERRORS.has(err.code) ? TypeError : Error
  return ipcError(err.message, err.code, Ctor)
}

module.exports = {
  binding,
  Kind,
  Status,
  Route,
  Scope,
  RendererKind,
  HEADER_BYTES,
  NONE,
  LARGE,
  DONE,
  DRAINED,
  COUNT,
  STATUS_BASE,
  channelId,
  channelName,
  ipcError,
  wrap,
}
