'use strict'
// Group C's child-process plumbing, for the scenarios (main side) and their child scripts:
// launching children and waiting until they have exited by themselves, and the peers' transports,
// each reduced to one "channel" (messages in, messages out) so every scenario runs the same
// protocol over every peer:
//
//   fork-json, fork-advanced  child_process.fork with serialization 'json' / 'advanced':
//                             child `process.send(v)`, main `child.send(v)`.
//   node-ipc                  node-ipc 14.0.0 (default 'fast' profile: JSON envelopes delimited
//                             by '\f') over a Unix socket: `emit('m', v)` both ways.
//   net                       hand-built: a Unix socket (node:net), each message one frame,
//                             4-byte big-endian length + v8.serialize(v); writes are corked and
//                             flushed once per tick (socket.cork() / process.nextTick(uncork)).
//   fifo                      hand-built blocking sendSync: the child writes a frame (as above)
//                             to a request FIFO and blocks in fs.readSync on a reply FIFO, which
//                             main writes. Request/reply only: no channel, see fifoServer/fifoClient.
//
// Every peer child is started with child_process.fork (so every child, ipc-main's too, has
// Node's IPC channel open; only fork-json and fork-advanced use it). Sockets and FIFOs live in a
// private temporary directory (mkdtemp, mode 0700) that main removes at the end.

const fs = require('fs')
const os = require('os')
const path = require('path')
const net = require('net')
const v8 = require('v8')
const childProcess = require('child_process')
const { setTimeout } = require('timers')

/** After its result a child must have exited by itself within this long (else: reported, killed). */
const CHILD_EXIT_MS = 10000

/** The peers' subject names, and their labels in the tables. */
const PEER_LABELS = {
  'fork-json': "fork, serialization 'json'",
  'fork-advanced': "fork, serialization 'advanced'",
  'node-ipc': 'node-ipc 14 (Unix socket)',
  net: 'net + v8.serialize frames',
  fifo: 'blocking-FIFO sendSync',
}

// ---- temporary directory ---------------------------------------------------------------------

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-main-bench-'))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

// ---- frames: 4-byte big-endian length + v8.serialize -----------------------------------------

/** One frame as a list of buffers: one for a small message, [header, body] for a large one. */
function frameParts(value) {
  const body = v8.serialize(value)
  if (body.length <= 4096) {
    const frame = Buffer.allocUnsafe(4 + body.length)
    frame.writeUInt32BE(body.length, 0)
    body.copy(frame, 4)
    return [frame]
  }
  // Large: the body is not copied again.
  const header = Buffer.allocUnsafe(4)
  header.writeUInt32BE(body.length, 0)
  return [header, body]
}

/** Reassembles frames from a byte stream; `onFrame(value)` per complete frame. */
class FrameDecoder {
  constructor(onFrame) {
    this.onFrame = onFrame
    this.header = Buffer.alloc(4)
    this.headerFill = 0
    this.body = null
    this.bodyFill = 0
  }

  push(chunk) {
    let off = 0
    const end = chunk.length
    while (off < end) {
      if (this.body === null) {
        if (this.headerFill === 0 && end - off >= 4) {
          const len = chunk.readUInt32BE(off)
          off += 4
          if (end - off >= len) {
            // Whole frame in this chunk: no copy before deserializing.
            const at = off
            off += len
            this.onFrame(v8.deserialize(chunk.subarray(at, at + len)))
            continue
          }
          this.body = Buffer.allocUnsafe(len)
          this.bodyFill = 0
        } else {
          const n = Math.min(4 - this.headerFill, end - off)
          chunk.copy(this.header, this.headerFill, off, off + n)
          this.headerFill += n
          off += n
          if (this.headerFill < 4) return
          this.headerFill = 0
          this.body = Buffer.allocUnsafe(this.header.readUInt32BE(0))
          this.bodyFill = 0
        }
      }
      const n = Math.min(this.body.length - this.bodyFill, end - off)
      chunk.copy(this.body, this.bodyFill, off, off + n)
      this.bodyFill += n
      off += n
      if (this.bodyFill === this.body.length) {
        const body = this.body
        this.body = null
        this.onFrame(v8.deserialize(body))
      }
    }
  }
}

/** send(value) over a net.Socket: frames corked and written once per tick. */
function frameWriter(socket) {
  let corked = false
  const uncork = () => {
    corked = false
    socket.uncork()
  }
  return value => {
    if (!corked) {
      corked = true
      socket.cork()
      process.nextTick(uncork)
    }
    for (const part of frameParts(value)) socket.write(part)
  }
}

// ---- node-ipc (an ES module: loaded with import()) ------------------------------------------

async function nodeIpcModule() {
  const { IPCModule } = await import('node-ipc')
  return IPCModule
}

function configureNodeIpc(ipc, dir) {
  Object.assign(ipc.config, {
    silent: true,
    appspace: '',
    socketRoot: dir + path.sep,
    id: 'bench-main',
    retry: 50,
    maxRetries: 20,
  })
}

// ---- channels: main side ---------------------------------------------------------------------

/**
 * Main's end of a peer's channel to one child running `file` (started here, with `arg` as its
 * JSON argv[2] plus the channel's address). `onMessage(value)` for each message from the child;
 * returns { send(value), child, exited (promise of { code, signal }), close() }.
 */
async function startPeer(subject, file, arg, onMessage) {
  const tmp = tempDir()
  let send = null
  let closeTransport = () => {}
  const childArg = { ...arg, subject }
  let serialization = 'json'
  if (subject === 'fork-json' || subject === 'fork-advanced') {
    serialization = subject === 'fork-json' ? 'json' : 'advanced'
  } else if (subject === 'net') {
    const address = path.join(tmp.dir, 'net.sock')
    const server = net.createServer()
    const connected = new Promise((resolve, reject) => {
      server.once('connection', resolve)
      server.once('error', reject)
    })
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(address, resolve)
    })
    childArg.address = address
    // One connection: the child's. Main sends only after the child has sent (its first message
    // is a request), so the socket is known by then.
    let writer = null
    connected.then(socket => {
      server.close()
      writer = frameWriter(socket)
      const decoder = new FrameDecoder(onMessage)
      socket.on('data', chunk => decoder.push(chunk))
      socket.on('error', () => {})
      closeTransport = () => socket.destroy()
    })
    send = value => writer(value)
    closeTransport = () => server.close()
  } else if (subject === 'node-ipc') {
    const IPCModule = await nodeIpcModule()
    const ipc = new IPCModule()
    configureNodeIpc(ipc, tmp.dir)
    const address = path.join(tmp.dir, 'node-ipc.sock')
    let socket = null
    await new Promise(resolve => {
      ipc.serve(address, () => {
        ipc.server.on('connect', s => {
          socket = s
        })
        ipc.server.on('m', (data, s) => {
          socket = s
          onMessage(data)
        })
        resolve()
      })
      ipc.server.start()
    })
    childArg.address = address
    send = value => ipc.server.emit(socket, 'm', value)
    closeTransport = () => ipc.server.stop()
  } else {
    tmp.remove()
    throw new Error(`no channel for subject ${subject}`)
  }
  const child = childProcess.fork(file, [JSON.stringify(childArg)], { serialization })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  if (subject === 'fork-json' || subject === 'fork-advanced') {
    child.on('message', onMessage)
    send = value => child.send(value)
  }
  return {
    child,
    exited,
    send: value => send(value),
    close() {
      child.removeAllListeners('message')
      closeTransport()
      tmp.remove()
    },
  }
}

/**
 * The usual end of a peer run: the child sends `{ result }`, main answers 'bye', the child closes
 * its end and exits by itself. Resolves with the result once the child has exited with code 0.
 * `onOther(value)` gets every other message.
 */
async function runPeer(subject, file, arg, onOther) {
  let gotResult
  let failed
  const result = new Promise((resolve, reject) => {
    gotResult = resolve
    failed = reject
  })
  let peer = null
  peer = await startPeer(subject, file, arg, m => {
    if (m !== null && typeof m === 'object' && m.result !== undefined) {
      gotResult(m.result)
      peer.send('bye')
    } else {
      onOther(m, peer)
    }
  })
  peer.exited.then(({ code, signal }) => failed(new Error(`${subject} child exited before its result (code ${code}, signal ${signal})`)))
  try {
    const r = await result
    await exitedWithin(peer.exited, `${subject} child`, () => peer.child.kill('SIGKILL'))
    return r
  } finally {
    peer.close()
  }
}

/** Waits for a child's exit; fails if it did not exit by itself, with code 0, in time. */
async function exitedWithin(exited, what, kill) {
  let timer
  const late = new Promise(resolve => {
    timer = setTimeout(() => resolve(null), CHILD_EXIT_MS)
  })
  const how = await Promise.race([exited, late])
  clearTimeout(timer)
  if (how === null) {
    kill()
    throw new Error(`${what} did not exit by itself within ${CHILD_EXIT_MS / 1000} s of its result (killed)`)
  }
  if (how.code !== 0) throw new Error(`${what} exited with code ${how.code}, signal ${how.signal}`)
}

// ---- channels: child side --------------------------------------------------------------------

/** The child's argument: { subject, sizes, address?, ... } (JSON in argv[2]). */
function childArg() {
  return JSON.parse(process.argv[2])
}

/**
 * The child's end of its channel to main: { send(value), next() (promise of the next message),
 * close() }. Messages that arrive while nobody waits are queued.
 */
async function connectPeer(arg) {
  let waiter = null
  const queue = []
  const deliver = m => {
    if (waiter !== null) {
      const w = waiter
      waiter = null
      w(m)
    } else queue.push(m)
  }
  const next = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise(resolve => (waiter = resolve)))
  const channel = (send, close) => ({
    send,
    next,
    /** Sends `value` and resolves with the next message (the answer). */
    request(value) {
      const answer = next()
      send(value)
      return answer
    },
    close,
  })
  const { subject } = arg
  if (subject === 'fork-json' || subject === 'fork-advanced') {
    process.on('message', deliver)
    return channel(
      value => process.send(value),
      () => process.off('message', deliver),
    )
  }
  if (subject === 'net') {
    const socket = net.connect(arg.address)
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const decoder = new FrameDecoder(deliver)
    socket.on('data', chunk => decoder.push(chunk))
    return channel(frameWriter(socket), () => socket.end())
  }
  if (subject === 'node-ipc') {
    const IPCModule = await nodeIpcModule()
    const ipc = new IPCModule()
    configureNodeIpc(ipc, path.dirname(arg.address))
    await new Promise((resolve, reject) => {
      ipc.connectTo('main', arg.address, () => {
        const c = ipc.of.main
        c.on('connect', resolve)
        c.on('error', reject)
        c.on('m', deliver)
      })
    })
    const client = ipc.of.main
    return channel(
      value => client.emit('m', value),
      () => ipc.disconnect('main'),
    )
  }
  throw new Error(`no channel for subject ${subject}`)
}

/** The child's end of the run: `{ result }` to main, wait for its 'bye', close. */
async function finishPeer(ch, result) {
  const bye = ch.next()
  ch.send({ result })
  const m = await bye
  if (m !== 'bye') throw new Error(`expected 'bye' after the result, got ${JSON.stringify(m)}`)
  ch.close()
}

// ---- the blocking-FIFO sendSync ------------------------------------------------------------

/**
 * Main's side: makes the two FIFOs in `dir`, answers each request frame with the frame of
 * `answer(value)`, written synchronously to the reply FIFO. Both FIFOs are opened O_RDWR here,
 * so neither open blocks and the request FIFO never reads as closed; its reads go through the
 * event loop (a net.Socket on the FIFO's fd).
 */
function fifoServer(dir, answer) {
  const req = path.join(dir, 'req.fifo')
  const rep = path.join(dir, 'rep.fifo')
  childProcess.execFileSync('mkfifo', ['-m', '600', req, rep])
  const repFd = fs.openSync(rep, fs.constants.O_RDWR)
  const reqFd = fs.openSync(req, fs.constants.O_RDWR | fs.constants.O_NONBLOCK)
  const requests = new net.Socket({ fd: reqFd, readable: true, writable: false })
  const decoder = new FrameDecoder(value => writeAllSync(repFd, frameParts(answer(value))))
  requests.on('data', chunk => decoder.push(chunk))
  return {
    req,
    rep,
    close() {
      requests.destroy()
      fs.closeSync(repFd)
    },
  }
}

/** Writes every byte of `bufs` to a blocking fd. */
function writeAllSync(fd, bufs) {
  let left = 0
  for (const b of bufs) left += b.length
  while (left > 0) {
    const n = bufs.length === 1 ? fs.writeSync(fd, bufs[0]) : fs.writevSync(fd, bufs)
    left -= n
    if (left === 0) break
    // Partial write: drop what went out.
    let skip = n
    const rest = []
    for (const b of bufs) {
      if (skip >= b.length) skip -= b.length
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b)
        skip = 0
      }
    }
    bufs = rest
  }
}

/** The child's side: `sendSync(value)` writes a request frame and blocks until the reply frame. */
function fifoClient(arg) {
  const reqFd = fs.openSync(arg.req, 'w')
  const repFd = fs.openSync(arg.rep, 'r')
  const scratch = Buffer.allocUnsafe(64 * 1024)
  // Blocks until at least `min` bytes are in `buf` (from `from` on); main gone = end of file.
  const readInto = (buf, from, min) => {
    let got = from
    while (got < min) {
      const n = fs.readSync(repFd, buf, got, buf.length - got, null)
      if (n === 0) throw new Error('fifo: main closed the reply FIFO')
      got += n
    }
    return got
  }
  return {
    sendSync(value) {
      writeAllSync(reqFd, frameParts(value))
      // One read usually brings the whole (small) reply; main writes nothing else meanwhile.
      const got = readInto(scratch, 0, 4)
      const len = scratch.readUInt32BE(0)
      if (got >= 4 + len) return v8.deserialize(Buffer.from(scratch.subarray(4, 4 + len)))
      const body = Buffer.allocUnsafe(len)
      scratch.copy(body, 0, 4, got)
      readInto(body, got - 4, len)
      return v8.deserialize(body)
    },
    close() {
      fs.closeSync(reqFd)
      fs.closeSync(repFd)
    },
  }
}

// ---- ipc-main renderer processes ------------------------------------------------------------

/**
 * Forks `file` as an ipc-main renderer (`webContents.fork(file, [JSON arg])`), resolves with the
 * value it sends on 'result' once it has exited by itself (render-process-gone 'clean-exit').
 * Fails if it is gone before its result, ends any other way, or does not exit in time.
 */
async function runRenderer(webContents, file, arg, onCreated) {
  const wc = webContents.fork(file, [JSON.stringify({ ...arg, subject: 'ipc-main' })])
  if (onCreated) onCreated(wc)
  const gone = new Promise(resolve => wc.once('render-process-gone', (e, d) => resolve(d)))
  let result
  let arrived = false
  const got = new Promise(resolve =>
    wc.ipc.once('result', (e, r) => {
      arrived = true
      resolve((result = r))
    }),
  )
  const first = await Promise.race([got.then(() => null), gone])
  // The result and the end can be dispatched in one go, and `gone` then wins the race (one
  // promise job fewer): what counts is whether the result was dispatched first.
  if (first !== null && !arrived) throw new Error(`renderer process gone before its result: ${JSON.stringify(first)}`)
  await rendererExit(wc, gone, 'renderer process')
  return result
}

async function rendererExit(wc, gone, what) {
  let timer
  const late = new Promise(resolve => {
    timer = setTimeout(() => resolve(null), CHILD_EXIT_MS)
  })
  const d = await Promise.race([gone, late])
  clearTimeout(timer)
  if (d === null) {
    wc.destroy()
    throw new Error(`${what} did not exit by itself within ${CHILD_EXIT_MS / 1000} s of its result (destroyed)`)
  }
  if (d.reason !== 'clean-exit') throw new Error(`${what} ended with ${JSON.stringify(d)}`)
}

/** µs summaries → ms (B4's convention for the 16 MiB echo). */
const toMs = s => ({ ...s, median: s.median / 1e3, p90: s.p90 / 1e3, p99: s.p99 / 1e3, min: s.min / 1e3, max: s.max / 1e3 })

/**
 * Runs `child` as the FIFO sendSync subject: main answers each request with the request itself,
 * until the child's last request, which carries its result and is answered 'bye' (then the
 * child closes and exits). Resolves with that result once the child has exited.
 */
async function runFifo(child, sizes) {
  const tmp = tempDir()
  let result = null
  const server = fifoServer(tmp.dir, v => {
    if (v !== null && typeof v === 'object' && v.result !== undefined) {
      result = v.result
      return 'bye'
    }
    return v
  })
  const arg = { subject: 'fifo', sizes, req: server.req, rep: server.rep }
  const proc = childProcess.fork(child, [JSON.stringify(arg)])
  const exited = new Promise(resolve => proc.once('exit', (code, signal) => resolve({ code, signal })))
  try {
    // The result comes before the exit (the child waits for 'bye' first).
    await exitedWithin(exited, 'fifo child', () => proc.kill('SIGKILL'))
    if (result === null) throw new Error('fifo child exited without its result')
    return result
  } finally {
    server.close()
    tmp.remove()
  }
}

/** A check that an answer is what was sent: the benchmark measured something else otherwise. */
function echoChecker(subject) {
  return (got, sent) => {
    if (got !== sent) throw new Error(`${subject}: sent ${sent}, got back ${JSON.stringify(got)}`)
  }
}

module.exports = {
  CHILD_EXIT_MS,
  echoChecker,
  runFifo,
  PEER_LABELS,
  tempDir,
  frameParts,
  FrameDecoder,
  startPeer,
  runPeer,
  exitedWithin,
  childArg,
  connectPeer,
  finishPeer,
  fifoServer,
  fifoClient,
  runRenderer,
  rendererExit,
  toMs,
}
