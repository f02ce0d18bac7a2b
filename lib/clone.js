'use strict'

// Structured-clone codec for IPC arguments, in V8's ValueSerializer wire format.
//
// serialize(): a JS fast path writes V8's format directly for: undefined,
// null, booleans, numbers, strings, plain objects (prototype Object.prototype
// or null; not a Proxy, arguments object or module namespace), arrays with
// Array.prototype (dense, holey, sparse, with extra own properties), Date,
// ArrayBuffer (not resizable) and every typed array / DataView (any realm).
// Shared and cyclic objects become back-references numbered as V8 numbers
// them, so V8's own deserializer reads this output identically. Anything else
// (BigInt, Map, Set, RegExp, Error, boxed primitives, class instances, plain
// objects of other realms, Proxies, host objects...) makes it give up: the WHOLE
// value is encoded again by CloneSerializer, a v8.Serializer subclass that
// handles views the same compact way, so the result does not depend on the
// path taken. deserialize(): a JS fast path for what the fast path writes plus
// Map and Set; on any other tag the whole payload is decoded again by
// CloneDeserializer (a v8.Deserializer subclass).
//
// Deliberate differences from V8's own structured clone:
//  - An ArrayBuffer view ships only the bytes it covers, never its whole backing
//    store (a pooled Buffer would otherwise leak its 8 KiB slab). It arrives as
//    the same typed-array type (Buffer -> Uint8Array) at byteOffset 0, as a
//    fixed-length view (views on resizable buffers too).
//  - ArrayBuffer identity inside one message is still kept: every view and
//    every direct reference to the same ArrayBuffer arrive sharing ONE buffer.
//    Views only: that buffer holds the smallest range [lo, hi) covering all of
//    them (plus up to 7 zero bytes in front so every view stays aligned), each
//    view at its original offset - lo (+ that padding); bytes between two such
//    views travel too. If the ArrayBuffer itself is also sent, it is sent whole
//    and the views point into it. The fast path handles "buffer first, then
//    views of it" itself (V8's own encoding); two views of one buffer, or a
//    view before its buffer, go to the fallback, which writes views as host
//    objects naming a shared group listed in an envelope in front of the V8
//    stream (see encodeEnvelope).
//  - Every clone failure is Error('An object could not be cloned.') with code
//    'ERR_IPC_NOT_CLONEABLE'.
//
// Splicing (serialize(value, true), for messages to and from renderer processes): a view of
// SPLICE_MIN bytes or more that is the value itself, or one of serializeArgs' arguments, is left
// out of the bytes; takeSplices() says where it goes, and the native call that sends the
// message (next, with no JS in between) reads it where it is, writing it to the socket from
// there. Entering an object or array after one puts them back in first (its getters could
// change them), so the message always holds the bytes as they were when written.
//
// Known limits:
//  - When the fast path gives up part-way, getters it already ran run again
//    in the fallback (and once more if that message has views, to find the
//    buffers it also reaches directly).
//  - Host objects whose prototype is exactly Object.prototype (addon objects
//    with internal fields made from a bare ObjectTemplate) cannot be told from
//    plain objects in JS; they are cloned as plain objects where V8 refuses.
//  - Decoding assigns properties (only '__proto__' is defined): a setter
//    planted on Object.prototype / Array.prototype would run, where V8 defines
//    an own property. (Frozen prototypes are fine: that throws and V8 decodes.)

const v8 = require('v8')
const { types } = require('util')
const os = require('os')

const { isProxy, isArrayBuffer, isDate, isArgumentsObject, isModuleNamespaceObject, isExternal } = types

// ---------------------------------------------------------------- errors

const NOT_CLONEABLE = 'An object could not be cloned.'

function cloneError () {
  const err = new Error(NOT_CLONEABLE)
  err.code = 'ERR_IPC_NOT_CLONEABLE'
  return err
}

function badPayload (cause) {
  const err = new Error('Malformed IPC payload: the bytes do not decode to a value.')
  err.code = 'ERR_IPC_BAD_PAYLOAD'
  if (cause !== undefined) err.cause = cause
  return err
}

// ------------------------------------------------------------ wire format

// Ask V8 which version it writes rather than hard-coding it.
const WIRE_HEADER = (() => {
  const s = new v8.Serializer()
  s.writeHeader()
  return Uint8Array.from(s.releaseBuffer())
})()
const WIRE_VERSION = WIRE_HEADER.length === 2 ? WIRE_HEADER[1] : -1
// The fast paths emit/parse format 15 (views carry a flags varint since 14) in
// host byte order, as V8 does; elsewhere everything goes through V8 itself.
const FAST = WIRE_HEADER[0] === 0xff && WIRE_VERSION === 15 && os.endianness() === 'LE'

const T_PADDING = 0x00
const T_VERSION = 0xff
const T_UNDEFINED = 0x5f // _
const T_NULL = 0x30 // 0
const T_TRUE = 0x54 // T
const T_FALSE = 0x46 // F
const T_INT32 = 0x49 // I
const T_UINT32 = 0x55 // U
const T_DOUBLE = 0x4e // N
const T_ONE_BYTE = 0x22 // "
const T_TWO_BYTE = 0x63 // c
const T_REF = 0x5e // ^
const T_BEGIN_OBJECT = 0x6f // o
const T_END_OBJECT = 0x7b // {
const T_BEGIN_SPARSE = 0x61 // a
const T_END_SPARSE = 0x40 // @
const T_BEGIN_DENSE = 0x41 // A
const T_END_DENSE = 0x24 // $
const T_HOLE = 0x2d // -
const T_DATE = 0x44 // D
const T_BEGIN_MAP = 0x3b // ;
const T_END_MAP = 0x3a // :
const T_BEGIN_SET = 0x27 // '
const T_END_SET = 0x2c // ,
const T_ARRAY_BUFFER = 0x42 // B
const T_TRANSFER = 0x74 // t
const T_VIEW = 0x56 // V
const T_HOST = 0x5c // \
const T_UTF8 = 0x53 // S
const T_BIGINT = 0x5a // Z
const T_TRUE_OBJECT = 0x79 // y
const T_FALSE_OBJECT = 0x78 // x
const T_NUMBER_OBJECT = 0x6e // n
const T_BIGINT_OBJECT = 0x7a // z
const T_STRING_OBJECT = 0x73 // s
const T_REGEXP = 0x52 // R
const T_ERROR = 0x72 // r
const T_RESIZABLE_ARRAY_BUFFER = 0x7e // ~
const T_VERIFY_OBJECT_COUNT = 0x3f // ?

// Our envelope marker (V8 streams start with 0xFF): only fallback output that
// contains views uses it.
const ENVELOPE = 0xfe

// index -> view kind; the index is also what host-object records store.
const VIEW_KINDS = [
  [Int8Array, 0x62, 1], // b
  [Uint8Array, 0x42, 1], // B
  [Uint8ClampedArray, 0x43, 1], // C
  [Int16Array, 0x77, 2], // w
  [Uint16Array, 0x57, 2], // W
  [Int32Array, 0x64, 4], // d
  [Uint32Array, 0x44, 4], // D
  [Float32Array, 0x66, 4], // f
  [Float64Array, 0x46, 8], // F
  [BigInt64Array, 0x71, 8], // q
  [BigUint64Array, 0x51, 8], // Q
  [DataView, 0x3f, 1] // ?
]
if (typeof Float16Array === 'function') VIEW_KINDS.push([Float16Array, 0x68, 2]) // eslint-disable-line no-undef
const DATA_VIEW_KIND = 11
const KIND_BY_NAME = { __proto__: null }
const KIND_BY_SUBTAG = new Int8Array(256).fill(-1)
for (let i = 0; i < VIEW_KINDS.length; i++) {
  KIND_BY_NAME[VIEW_KINDS[i][0].name] = i
  KIND_BY_SUBTAG[VIEW_KINDS[i][1]] = i
}

// ----------------------------------------------------------- intrinsics
// Captured once so user overrides (or other realms' objects) cannot confuse us.

const ObjectProto = Object.prototype
const ArrayProto = Array.prototype
const getPrototypeOf = Object.getPrototypeOf
const objectKeys = Object.keys
const hasOwn = Object.hasOwn
const defineProperty = Object.defineProperty
const isArray = Array.isArray
const isView = ArrayBuffer.isView
const fromCharCode = String.fromCharCode
const TypedArrayProto = getPrototypeOf(Uint8Array.prototype)
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get
const TA_TAG = getter(TypedArrayProto, Symbol.toStringTag) // 'Uint8Array' ... or undefined
const TA_BUFFER = getter(TypedArrayProto, 'buffer')
const TA_OFFSET = getter(TypedArrayProto, 'byteOffset')
const TA_LENGTH = getter(TypedArrayProto, 'byteLength')
const DV_BUFFER = getter(DataView.prototype, 'buffer')
const DV_OFFSET = getter(DataView.prototype, 'byteOffset')
const DV_LENGTH = getter(DataView.prototype, 'byteLength')
const AB_LENGTH = getter(ArrayBuffer.prototype, 'byteLength')
const AB_RESIZABLE = getter(ArrayBuffer.prototype, 'resizable') || (() => false)
const DateGetTime = Date.prototype.getTime
const MapSet = Map.prototype.set
const SetAdd = Set.prototype.add
const MapForEach = Map.prototype.forEach
const SetForEach = Set.prototype.forEach
const latin1Write = Buffer.prototype.latin1Write
const ucs2Write = Buffer.prototype.ucs2Write
const latin1Slice = Buffer.prototype.latin1Slice
const utf8Slice = Buffer.prototype.utf8Slice
const ucs2Slice = Buffer.prototype.ucs2Slice

// A detached ArrayBuffer reports byteLength 0, as a real empty one does; only
// construction tells them apart (Node 20 has no ArrayBuffer#detached).
function isDetached (ab) {
  if (AB_LENGTH.call(ab) !== 0) return false
  try {
    new Uint8Array(ab) // eslint-disable-line no-new
    return false
  } catch {
    return true
  }
}

// Index-key strings for the array consistency check, so it costs no allocation.
const INDEX_STRINGS = []
for (let i = 0; i < 1024; i++) INDEX_STRINGS.push(String(i))
const indexString = (i) => (i < 1024 ? INDEX_STRINGS[i] : String(i))

// Doubles travel in host byte order, as V8 writes them.
const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)

// ================================================================ encoder

const SCRATCH_SIZE = 16 * 1024
// Never keep a scratch bigger than this (a 1 MiB binary plus framing still fits).
const KEEP_LIMIT = 1024 * 1024 + 128 * 1024
const GROW_SLACK = 64 * 1024
const MAX_DEPTH = 512 // deeper values go to V8, which has a real stack check
const LINEAR_SEEN = 16 // below this many objects a linear scan beats a Map
const SHORT_STRING = 32 // shorter strings are written by a JS loop
// Views at least this long are left out of a spliced message (see serialize's `splice`).
const SPLICE_MIN = 256 * 1024

// Encoder state. Module-level for speed; a reentrant call (a getter that
// sends a message) saves and restores it, see serializeNested().
let scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE)
let buf = scratch
let pos = 0
let depth = 0
let seen = new Array(LINEAR_SEEN) // objects in the order V8 numbers them
let nSeen = 0
let seenMap = null // object -> id, once nSeen passes LINEAR_SEEN
let viewed = [] // ArrayBuffers already shipped compactly for a view...
let viewedSet = null // ...or as a Set once there are many
let active = false
// Splicing (serialize's `splice`): the depth at which a view may be left out (-1: none may),
// and what was left out ([at, Uint8Array, at, Uint8Array, ...], `at` an offset in the written
// bytes) and not put back in since (see unsplice).
let spliceDepth = -1
let splices = null
let lastSplices = null

// Thrown (never escapes) when the fast path meets something it leaves to V8.
const BAIL = { bail: true }
// Takes the id slot of a compactly shipped ArrayBuffer; never equal to a value.
const COMPACT_BUFFER = { compact: true }

// Where buffers past the keep limit come from (setLargeAllocator): the addon lends memory that
// the call sending the message takes over without a copy.
let allocLarge = null

/** `alloc(size)` returns an ArrayBuffer for messages larger than the keep limit, or null. */
function setLargeAllocator (alloc) {
  allocLarge = alloc
}

function allocate (size) {
  const lent = size > KEEP_LIMIT && allocLarge !== null ? allocLarge(size) : null
  return lent !== null ? Buffer.from(lent) : Buffer.allocUnsafeSlow(size)
}

function grow (need) {
  const min = pos + need
  let size = buf.length * 2
  if (size < min) size = min + Math.min(min >>> 3, GROW_SLACK)
  // Doubling must not push a message that fits the keep limit past it.
  if (size > KEEP_LIMIT && min <= KEEP_LIMIT) size = KEEP_LIMIT
  const next = allocate(size)
  next.set(buf.length === pos ? buf : buf.subarray(0, pos))
  buf = next
}

function writeVarint (n) {
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  buf[pos++] = n
}

function writeDouble (n) {
  f64[0] = n
  buf[pos] = f64Bytes[0]
  buf[pos + 1] = f64Bytes[1]
  buf[pos + 2] = f64Bytes[2]
  buf[pos + 3] = f64Bytes[3]
  buf[pos + 4] = f64Bytes[4]
  buf[pos + 5] = f64Bytes[5]
  buf[pos + 6] = f64Bytes[6]
  buf[pos + 7] = f64Bytes[7]
  pos += 8
}

function seenIndex (obj) {
  if (seenMap !== null) {
    const id = seenMap.get(obj)
    return id === undefined ? -1 : id
  }
  for (let i = 0; i < nSeen; i++) if (seen[i] === obj) return i
  return -1
}

function addSeen (obj) {
  if (seenMap !== null) {
    seenMap.set(obj, nSeen++)
  } else if (nSeen < LINEAR_SEEN) {
    seen[nSeen++] = obj
  } else {
    seenMap = new Map()
    for (let i = 0; i < nSeen; i++) seenMap.set(seen[i], i)
    seenMap.set(obj, nSeen++)
  }
}

function writeNumber (v) {
  if (pos + 10 > buf.length) grow(10)
  // Small integers as V8 writes Smis; -0 must stay a double.
  if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
    buf[pos++] = T_INT32
    writeVarint(((v << 1) ^ (v >> 31)) >>> 0)
  } else {
    buf[pos++] = T_DOUBLE
    writeDouble(v)
  }
}

// V8 reads Latin-1 ('"') and UTF-16 ('c'). UTF-8 would lose lone surrogates.
function writeString (s) {
  const len = s.length
  if (len < SHORT_STRING) {
    if (pos + 2 * len + 4 > buf.length) grow(2 * len + 4)
    buf[pos] = T_ONE_BYTE
    buf[pos + 1] = len
    let p = pos + 2
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c > 0xff) return writeTwoByte(s, len)
      buf[p++] = c
    }
    pos = p
    return
  }
  // The regexp answers in O(1) for strings V8 stores as one-byte.
  if (!NOT_LATIN1.test(s)) {
    if (pos + len + 6 > buf.length) grow(len + 6)
    buf[pos++] = T_ONE_BYTE
    writeVarint(len)
    pos += latin1Write.call(buf, s, pos, len)
  } else {
    writeTwoByte(s, len)
  }
}
const NOT_LATIN1 = /[^\x00-\xff]/ // eslint-disable-line no-control-regex

function writeTwoByte (s, len) {
  const byteLength = 2 * len
  if (pos + byteLength + 7 > buf.length) grow(byteLength + 7)
  // V8 keeps two-byte payloads at even offsets; do the same.
  const varintSize = byteLength < 0x80 ? 1 : byteLength < 0x4000 ? 2 : byteLength < 0x200000 ? 3 : byteLength < 0x10000000 ? 4 : 5
  if ((pos + 1 + varintSize) & 1) buf[pos++] = T_PADDING
  buf[pos++] = T_TWO_BYTE
  writeVarint(byteLength)
  if (len < SHORT_STRING) {
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i)
      buf[pos++] = c & 0xff
      buf[pos++] = c >>> 8
    }
  } else {
    pos += ucs2Write.call(buf, s, pos, byteLength)
  }
}

function writeValue (v) {
  // An if-chain on typeof compiles to type checks; a switch on it does not.
  if (typeof v === 'string') {
    writeString(v)
  } else if (typeof v === 'number') {
    writeNumber(v)
  } else if (typeof v === 'object') {
    if (v === null) {
      if (pos + 1 > buf.length) grow(1)
      buf[pos++] = T_NULL
    } else {
      writeObject(v)
    }
  } else if (typeof v === 'boolean') {
    if (pos + 1 > buf.length) grow(1)
    buf[pos++] = v ? T_TRUE : T_FALSE
  } else if (v === undefined) {
    if (pos + 1 > buf.length) grow(1)
    buf[pos++] = T_UNDEFINED
  } else if (typeof v === 'bigint') {
    throw BAIL
  } else {
    throw cloneError() // function, symbol
  }
}

function writeObject (v) {
  const id = seenIndex(v)
  if (id >= 0) {
    if (pos + 6 > buf.length) grow(6)
    buf[pos++] = T_REF
    writeVarint(id)
    return
  }
  // V8 refuses every Proxy; ask first so no getPrototypeOf trap runs.
  if (isProxy(v)) throw cloneError()
  if (depth >= MAX_DEPTH) throw BAIL
  const proto = getPrototypeOf(v)
  if (proto === ObjectProto || proto === null) {
    // Module namespaces and V8 Externals (e.g. a handle's _externalStream)
    // have a null prototype too; V8 refuses them.
    if (proto === null && (isModuleNamespaceObject(v) || isExternal(v))) throw BAIL
    writePlainObject(v)
  } else if (proto === ArrayProto && isArray(v)) {
    writeArray(v)
  } else if (isView(v)) {
    writeView(v)
  } else if (isArrayBuffer(v)) {
    writeArrayBuffer(v)
  } else if (isDate(v)) {
    addSeen(v)
    if (pos + 9 > buf.length) grow(9)
    buf[pos++] = T_DATE
    writeDouble(DateGetTime.call(v))
  } else {
    throw BAIL
  }
}

function writePlainObject (v) {
  if (splices !== null) unsplice()
  const keys = objectKeys(v)
  const n = keys.length
  // An arguments object has Object.prototype too but V8 refuses it. Only
  // objects whose first key is an index (or that have none) can be one.
  if ((n === 0 || keys[0].charCodeAt(0) <= 0x39) && isArgumentsObject(v)) throw cloneError()
  addSeen(v)
  depth++
  if (pos + 1 > buf.length) grow(1)
  buf[pos++] = T_BEGIN_OBJECT
  let written = 0
  for (let i = 0; i < n; i++) {
    const key = keys[i]
    const value = v[key]
    // A getter may have deleted a later property; V8 skips it then.
    if (value === undefined && !hasOwn(v, key)) continue
    writeString(key)
    writeValue(value)
    written++
  }
  if (pos + 6 > buf.length) grow(6)
  buf[pos++] = T_END_OBJECT
  writeVarint(written)
  depth--
}

function writeArray (a) {
  if (splices !== null) unsplice()
  const len = a.length
  const keys = objectKeys(a)
  const n = keys.length
  addSeen(a)
  depth++
  if (pos + 6 > buf.length) grow(6)
  if (len > 2 * n + 16) {
    // Mostly holes: list what exists, as V8 does for holey arrays.
    buf[pos++] = T_BEGIN_SPARSE
    writeVarint(len)
    let written = 0
    for (let i = 0; i < n; i++) {
      const key = keys[i]
      const value = a[key]
      if (value === undefined && !hasOwn(a, key)) continue
      const index = +key
      if (index < len && indexString(index) === key) writeNumber(index)
      else writeString(key)
      writeValue(value)
      written++
    }
    if (pos + 11 > buf.length) grow(11)
    buf[pos++] = T_END_SPARSE
    writeVarint(written)
    writeVarint(len)
  } else {
    // Dense layout; holes get V8's hole tag so the receiver keeps them.
    buf[pos++] = T_BEGIN_DENSE
    writeVarint(len)
    let holes = 0
    let last = -1
    for (let i = 0; i < len; i++) {
      const value = a[i]
      if (typeof value === 'number' && (value | 0) === value && (value !== 0 || 1 / value > 0)) {
        // Small integers inline: numeric arrays are common and long.
        if (pos + 6 > buf.length) grow(6)
        buf[pos++] = T_INT32
        let z = ((value << 1) ^ (value >> 31)) >>> 0
        while (z > 0x7f) {
          buf[pos++] = (z & 0x7f) | 0x80
          z >>>= 7
        }
        buf[pos++] = z
        last = i
      } else if (value === undefined && !hasOwn(a, i)) {
        if (pos + 1 > buf.length) grow(1)
        buf[pos++] = T_HOLE
        holes++
      } else {
        writeValue(value)
        last = i
      }
    }
    // Object.keys lists enumerable indices first, then the other keys. Exactly
    // `present` index keys ending at `last` means every element we wrote is
    // enumerable and keys[present..] are the extra properties (e.g. a RegExp
    // match's index/input/groups). Anything else (non-enumerable elements,
    // elements changed by getters) is left to V8.
    const present = len - holes
    if (n < present || (present > 0 && keys[present - 1] !== indexString(last))) throw BAIL
    let written = 0
    for (let i = present; i < n; i++) {
      const key = keys[i]
      const value = a[key]
      if (value === undefined && !hasOwn(a, key)) continue
      writeString(key)
      writeValue(value)
      written++
    }
    if (pos + 11 > buf.length) grow(11)
    buf[pos++] = T_END_DENSE
    writeVarint(written)
    writeVarint(len)
  }
  depth--
}

// The arguments of one call, as a rest parameter builds them: always a plain, dense array with
// no holes, no extra properties and no proxy, so none of writeArray's checks are needed (they
// cost more than a small message's whole encoding). Numbered like any array, as V8 does.
function writeArgs (a) {
  const len = a.length
  addSeen(a)
  depth++
  if (pos + 6 > buf.length) grow(6)
  buf[pos++] = T_BEGIN_DENSE
  writeVarint(len)
  for (let i = 0; i < len; i++) writeValue(a[i])
  if (pos + 11 > buf.length) grow(11)
  buf[pos++] = T_END_DENSE
  writeVarint(0)
  writeVarint(len)
  depth--
}

// Kind index of a view (-1 if unknown); sets vBuffer / vOffset / vLength.
// Uses the intrinsic getters: they work across realms and ignore overrides.
let vBuffer = null
let vOffset = 0
let vLength = 0
function viewInfo (v) {
  const name = TA_TAG.call(v)
  if (name === undefined) {
    vBuffer = DV_BUFFER.call(v)
    vOffset = DV_OFFSET.call(v)
    vLength = DV_LENGTH.call(v)
    return DATA_VIEW_KIND
  }
  const kind = KIND_BY_NAME[name]
  if (kind === undefined) return -1
  vBuffer = TA_BUFFER.call(v)
  vOffset = TA_OFFSET.call(v)
  vLength = TA_LENGTH.call(v)
  return kind
}

function wasViewed (ab) {
  if (viewedSet !== null) return viewedSet.has(ab)
  for (let i = 0; i < viewed.length; i++) if (viewed[i] === ab) return true
  return false
}

function addViewed (ab) {
  if (viewedSet !== null) viewedSet.add(ab)
  else if (viewed.length < LINEAR_SEEN) viewed.push(ab)
  else viewedSet = new Set(viewed).add(ab)
}

function writeView (v) {
  const kind = viewInfo(v)
  if (kind < 0) throw BAIL
  const ab = vBuffer
  const offset = vOffset
  const length = vLength
  vBuffer = null
  if (!isArrayBuffer(ab)) throw cloneError() // backed by a SharedArrayBuffer
  if (length === 0 && isDetached(ab)) throw cloneError()
  const abId = seenIndex(ab)
  if (abId >= 0) {
    // The buffer itself went whole earlier in this message: point into it, as V8 does.
    addSeen(v)
    if (pos + 18 > buf.length) grow(18)
    buf[pos++] = T_REF
    writeVarint(abId)
    buf[pos++] = T_VIEW
    buf[pos++] = VIEW_KINDS[kind][1]
    writeVarint(offset)
    writeVarint(length)
    buf[pos++] = 0
    return
  }
  // A second view of a buffer already shipped compactly: the fallback
  // gives all views of one buffer a shared group.
  if (wasViewed(ab)) throw BAIL
  if (length > 0xffffffff) throw cloneError() // V8's limit too
  addViewed(ab)
  addSeen(COMPACT_BUFFER)
  addSeen(v)
  const splice = depth === spliceDepth && length >= SPLICE_MIN
  const room = splice ? 16 : length + 16
  if (pos + room > buf.length) grow(room)
  buf[pos++] = T_ARRAY_BUFFER
  writeVarint(length)
  if (splice) {
    addSplice(ab, offset, length)
  } else if (length <= 64 && VIEW_KINDS[kind][2] === 1 && kind !== DATA_VIEW_KIND) {
    // Small byte arrays: reading the elements beats making a byte view.
    for (let i = 0; i < length; i++) buf[pos + i] = v[i] & 0xff
    pos += length
  } else {
    copyBytes(ab, offset, length)
  }
  buf[pos++] = T_VIEW
  buf[pos++] = VIEW_KINDS[kind][1]
  buf[pos++] = 0 // byteOffset
  writeVarint(length)
  buf[pos++] = 0 // flags
}

function copyBytes (ab, offset, length) {
  if (length > 0) buf.set(new Uint8Array(ab, offset, length), pos)
  pos += length
}

// Leaves the bytes out: the native call that sends the message reads them where they are.
function addSplice (ab, offset, length) {
  if (splices === null) splices = []
  splices.push(pos, new Uint8Array(ab, offset, length))
}

// Whether every view left out still covers what it did (SPLICE_MIN bytes at least).
function splicesIntact (spliced) {
  for (let i = 1; i < spliced.length; i += 2) if (TA_LENGTH.call(spliced[i]) < SPLICE_MIN) return false
  return true
}

// Puts what was left out back in, before an object's getters could run and change it (the
// message must hold the bytes as they were when they were written).
function unsplice () {
  let total = pos
  for (let i = 1; i < splices.length; i += 2) total += splices[i].length
  const next = allocate(total + GROW_SLACK)
  let from = 0
  let to = 0
  for (let i = 0; i < splices.length; i += 2) {
    const at = splices[i]
    const view = splices[i + 1]
    next.set(buf.subarray(from, at), to)
    to += at - from
    next.set(view, to)
    to += view.length
    from = at
  }
  next.set(buf.subarray(from, pos), to)
  buf = next
  pos = total
  splices = null
}

function writeArrayBuffer (ab) {
  // Resizable buffers ('~') and buffers a compact view already used go to V8.
  if (AB_RESIZABLE.call(ab) || wasViewed(ab)) throw BAIL
  if (isDetached(ab)) throw cloneError()
  const length = AB_LENGTH.call(ab)
  if (length > 0xffffffff) throw cloneError()
  addSeen(ab)
  const splice = depth === spliceDepth && length >= SPLICE_MIN
  const room = splice ? 6 : length + 6
  if (pos + room > buf.length) grow(room)
  buf[pos++] = T_ARRAY_BUFFER
  writeVarint(length)
  if (splice) addSplice(ab, 0, length)
  else copyBytes(ab, 0, length)
}

// Runs the fast path over the current state; returns the end position.
function encodeFast (value, args) {
  buf[0] = T_VERSION
  buf[1] = WIRE_VERSION
  pos = 2
  if (args) writeArgs(value)
  else writeValue(value)
  return pos
}

function resetState () {
  spliceDepth = -1
  splices = null
  for (let i = 0; i < nSeen && i < LINEAR_SEEN; i++) seen[i] = undefined
  nSeen = 0
  seenMap = null
  if (viewed.length !== 0) viewed.length = 0
  viewedSet = null
  depth = 0
}

// Result views on the scratch, one per small length: allocating a view is a
// good part of a tiny message's cost, and a result only has to stay valid
// until the next serialize() call anyway.
const VIEW_CACHE_SIZE = 256
let viewCache = new Array(VIEW_CACHE_SIZE).fill(null)

function useAsScratch (b) {
  scratch = b
  viewCache = new Array(VIEW_CACHE_SIZE).fill(null)
}

/**
 * The message's bytes. With `splice`, large views (at least SPLICE_MIN bytes) that are the value
 * itself or, for serializeArgs, one of the arguments may be left out of the bytes: takeSplices()
 * then says where they go, and the native call that sends the message (right after, with no JS
 * in between) reads them in place: a large Buffer is not copied into the message first.
 */
function serialize (value, splice) {
  return encode(value, false, splice === true)
}

/** serialize() for the array a rest parameter made (`...args`): see writeArgs. */
function serializeArgs (args, splice) {
  return encode(args, true, splice === true)
}

/** What the last spliced serialize left out ([at, Uint8Array, ...]), or null; once. */
function takeSplices () {
  const s = lastSplices
  if (s !== null) lastSplices = null
  return s
}

// lastSplices is only ever set by a spliced encode that succeeded, and its caller takes it at
// once: no need to clear it on every call (the small messages' path).
function encode (value, args, splice) {
  if (!active && FAST) {
    if (args) {
      if (allPrimitive(value)) return viewOfScratch(encodePrimitiveArgs(value))
    } else if (isPrimitive(value)) {
      return viewOfScratch(encodePrimitive(value))
    }
  }
  if (active) return serializeNested(value)
  if (!FAST) return serializeFallback(value)
  active = true
  // The arguments array a rest parameter made has no getters; any other container might.
  if (splice) spliceDepth = args ? 1 : 0
  let end
  try {
    end = encodeFast(value, args)
  } catch (err) {
    endCall()
    if (err !== BAIL) throw err
    return serializeFallback(value)
  }
  if (splices !== null && !splicesIntact(splices)) {
    // Only a patched built-in running during the encode could have detached or shrunk one.
    endCall()
    throw cloneError()
  }
  lastSplices = splices
  const b = buf
  endCall()
  if (b === scratch) return viewOfScratch(end)
  return new Uint8Array(b.buffer, b.byteOffset, end)
}

// Arguments that are all numbers, short strings, booleans, null or undefined (the usual IPC
// call), or one such value (the usual answer): nothing can repeat, nest or run code, so none of
// the object graph's bookkeeping is needed, and nothing can fail.
const PRIMITIVE_ARGS = 8

function isPrimitive (v) {
  if (typeof v === 'string') return v.length < SHORT_STRING
  return typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined
}

function allPrimitive (args) {
  const len = args.length
  if (len > PRIMITIVE_ARGS) return false
  for (let i = 0; i < len; i++) if (!isPrimitive(args[i])) return false
  return true
}

function encodePrimitive (v) {
  buf = scratch
  scratch[0] = T_VERSION
  scratch[1] = WIRE_VERSION
  pos = 2
  writeValue(v)
  return pos
}

// Written as encodeFast would; the scratch holds the largest such message many times over.
function encodePrimitiveArgs (args) {
  const b = scratch
  buf = b
  b[0] = T_VERSION
  b[1] = WIRE_VERSION
  b[2] = T_BEGIN_DENSE
  const len = args.length
  b[3] = len
  pos = 4
  for (let i = 0; i < len; i++) writeValue(args[i])
  b[pos++] = T_END_DENSE
  b[pos++] = 0
  b[pos++] = len
  return pos
}

function viewOfScratch (end) {
  if (end < VIEW_CACHE_SIZE) {
    const cached = viewCache[end]
    if (cached !== null) return cached
    return (viewCache[end] = new Uint8Array(scratch.buffer, scratch.byteOffset, end))
  }
  return new Uint8Array(scratch.buffer, scratch.byteOffset, end)
}

// Leaves no state behind, whatever happened during the call.
function endCall () {
  resetState()
  active = false
  if (buf !== scratch) {
    // Grown: keep it as the scratch unless it is too big to hold on to.
    if (buf.length <= KEEP_LIMIT) useAsScratch(buf)
    else buf = scratch
  }
}

// A serialize() from inside a serialize() (a getter sending a message) runs on
// its own state and its own buffer so the outer call is left untouched.
function serializeNested (value) {
  if (!FAST) return serializeFallback(value)
  const saved = [buf, pos, depth, seen, nSeen, seenMap, viewed, viewedSet, spliceDepth, splices]
  spliceDepth = -1
  splices = null
  buf = Buffer.allocUnsafeSlow(256)
  seen = new Array(LINEAR_SEEN)
  nSeen = 0
  seenMap = null
  viewed = []
  viewedSet = null
  depth = 0
  let out
  try {
    const end = encodeFast(value)
    out = new Uint8Array(buf.buffer, buf.byteOffset, end)
  } catch (err) {
    if (err !== BAIL) throw err
  } finally {
    buf = saved[0]
    pos = saved[1]
    depth = saved[2]
    seen = saved[3]
    nSeen = saved[4]
    seenMap = saved[5]
    viewed = saved[6]
    viewedSet = saved[7]
    spliceDepth = saved[8]
    splices = saved[9]
  }
  return out !== undefined ? out : serializeFallback(value)
}

// -------------------------------------------------------------- fallback

// V8 writes the value; views come to _writeHostObject so they ship compactly.
// Host record: varint kind, group id, byteOffset in the original buffer,
// byteLength. Groups (one per ArrayBuffer) are written in front, see
// encodeEnvelope.
class CloneSerializer extends v8.Serializer {
  constructor (wholeBuffers) {
    super()
    this._setTreatArrayBufferViewsAsHostObjects(true)
    this.groups = new Map() // ArrayBuffer -> group
    this.groupList = []
    if (wholeBuffers !== null) {
      // Buffers also sent directly travel whole, as V8 transfers so that the
      // direct references and the views resolve to the same group.
      for (const ab of wholeBuffers) {
        const group = this.addGroup(ab, 0, AB_LENGTH.call(ab), true)
        this.transferArrayBuffer(group.id, ab)
      }
    }
  }

  addGroup (ab, lo, hi, whole) {
    const group = { id: this.groupList.length, ab, lo, hi, whole }
    this.groups.set(ab, group)
    this.groupList.push(group)
    return group
  }

  _getDataCloneError () {
    return cloneError()
  }

  _getSharedArrayBufferId () {
    throw cloneError()
  }

  _writeHostObject (obj) {
    const kind = isView(obj) ? viewInfo(obj) : -1
    if (kind < 0) throw cloneError() // a real host object (handle, ...)
    const ab = vBuffer
    const offset = vOffset
    const length = vLength
    vBuffer = null
    if (!isArrayBuffer(ab)) throw cloneError()
    if (length === 0 && isDetached(ab)) throw cloneError()
    if (offset + length > 0xffffffff) throw cloneError()
    let group = this.groups.get(ab)
    if (group === undefined) {
      group = this.addGroup(ab, offset, offset + length, false)
    } else if (!group.whole) {
      if (offset < group.lo) group.lo = offset
      if (offset + length > group.hi) group.hi = offset + length
    }
    this.writeUint32(kind)
    this.writeUint32(group.id)
    this.writeUint32(offset)
    this.writeUint32(length)
  }
}

function serializeFallback (value) {
  let s = new CloneSerializer(null)
  s.writeHeader()
  s.writeValue(value)
  if (s.groupList.length === 0) return s.releaseBuffer()
  // Views are present. If one of their buffers is also reachable directly,
  // V8 wrote it on its own; run again with those buffers sent whole.
  const direct = findDirectBuffers(value, s.groups)
  if (direct.size > 0) {
    s.releaseBuffer()
    s = new CloneSerializer(direct)
    s.writeHeader()
    s.writeValue(value)
  }
  return encodeEnvelope(s.groupList, s.releaseBuffer())
}

// The ArrayBuffers among `groups` that `root` reaches other than through a
// view, walking what V8's serializer walks.
function findDirectBuffers (root, groups) {
  const found = new Set()
  const visited = new Set()
  const stack = [root]
  const push = (x) => { stack.push(x) }
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null || visited.has(v)) continue
    visited.add(v)
    if (isProxy(v) || isView(v) || isDate(v) || types.isRegExp(v) || types.isBoxedPrimitive(v)) continue
    if (isArrayBuffer(v)) {
      if (groups.has(v)) found.add(v)
    } else if (types.isMap(v)) {
      MapForEach.call(v, (value, key) => { stack.push(key, value) })
    } else if (types.isSet(v)) {
      SetForEach.call(v, push)
    } else if (types.isNativeError(v)) {
      const d = Object.getOwnPropertyDescriptor(v, 'cause')
      if (d !== undefined && 'value' in d) stack.push(d.value)
    } else {
      for (const key of objectKeys(v)) stack.push(v[key])
    }
  }
  return found
}

// Envelope: 0xFE, varint group count, per group: varint flags (1 = whole,
// reachable as a transferred ArrayBuffer), varint lo, varint byte length,
// the bytes [lo, lo + length) of the buffer; then the V8 stream.
function encodeEnvelope (groupList, payload) {
  let size = 1 + 5 + payload.length
  for (const g of groupList) size += 11 + (g.hi - g.lo)
  const out = Buffer.allocUnsafeSlow(size)
  let p = 0
  const varint = (n) => {
    while (n > 0x7f) {
      out[p++] = (n & 0x7f) | 0x80
      n = Math.floor(n / 128)
    }
    out[p++] = n
  }
  out[p++] = ENVELOPE
  varint(groupList.length)
  for (const g of groupList) {
    const length = g.hi - g.lo
    varint(g.whole ? 1 : 0)
    varint(g.lo)
    varint(length)
    if (length > 0) out.set(new Uint8Array(g.ab, g.lo, length), p)
    p += length
  }
  out.set(payload, p)
  p += payload.length
  return new Uint8Array(out.buffer, out.byteOffset, p)
}

// ================================================================ decoder

const MAX_DECODE_DEPTH = 512
const ALIAS_MIN = 1024 // smaller views are copied even when `owned`

// Decoder state, module-level for speed (saved around a nested call).
let dbuf = null
let dpos = 0
let dend = 0
let downed = false
let ddepth = 0
let dobjs = [] // objects in the order V8 numbers them
let nObjs = 0
let dgroups = null
let decoding = false

// Thrown inside the fast decoder: not a format this decoder handles, or an
// aliased buffer that turns out to be referenced (retry copying).
const DBAIL = { bail: true }
const DNOALIAS = { noAlias: true }
const DBAD = { bad: true }
// Takes the id slot of a buffer only visible through an aliasing view.
const ALIASED_BUFFER = { aliased: true }

function readVarint () {
  if (dpos >= dend) throw DBAD
  let b = dbuf[dpos++]
  if (b < 0x80) return b
  let result = b & 0x7f
  let mul = 0x80
  for (let i = 1; i < 5; i++) {
    if (dpos >= dend) throw DBAD
    b = dbuf[dpos++]
    if (i === 4 && b > 0x0f) throw DBAIL // more than 32 bits: V8's call
    result += (b & 0x7f) * mul
    if (b < 0x80) return result
    mul *= 0x80
  }
  throw DBAIL // overlong varint
}

function readDouble () {
  if (dend - dpos < 8) throw DBAD
  f64Bytes[0] = dbuf[dpos]
  f64Bytes[1] = dbuf[dpos + 1]
  f64Bytes[2] = dbuf[dpos + 2]
  f64Bytes[3] = dbuf[dpos + 3]
  f64Bytes[4] = dbuf[dpos + 4]
  f64Bytes[5] = dbuf[dpos + 5]
  f64Bytes[6] = dbuf[dpos + 6]
  f64Bytes[7] = dbuf[dpos + 7]
  dpos += 8
  return f64[0]
}

// Next tag, skipping padding as V8 does; -1 at the end.
function peekTag () {
  while (dpos < dend) {
    const t = dbuf[dpos]
    if (t !== T_PADDING) return t
    dpos++
  }
  return -1
}

function readOneByte (len) {
  if (len > dend - dpos) throw DBAD
  const p = dpos
  dpos += len
  const b = dbuf
  switch (len) {
    case 0: return ''
    case 1: return fromCharCode(b[p])
    case 2: return fromCharCode(b[p], b[p + 1])
    case 3: return fromCharCode(b[p], b[p + 1], b[p + 2])
    case 4: return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3])
    case 5: return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4])
    case 6: return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5])
    case 7: return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6])
    case 8: return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7])
  }
  if (len < SHORT_STRING) {
    let s = ''
    for (let i = p; i < p + len; i++) s += fromCharCode(b[i])
    return s
  }
  return latin1Slice.call(b, p, p + len)
}

function readTwoByte (byteLength) {
  if (byteLength > dend - dpos || (byteLength & 1) !== 0) throw DBAD
  const p = dpos
  dpos += byteLength
  if (byteLength < 2 * SHORT_STRING) {
    let s = ''
    for (let i = p; i < p + byteLength; i += 2) s += fromCharCode(dbuf[i] | (dbuf[i + 1] << 8))
    return s
  }
  return ucs2Slice.call(dbuf, p, p + byteLength)
}

function readValue () {
  if (dpos >= dend) throw DBAD
  let tag = dbuf[dpos++]
  while (tag === T_PADDING) {
    if (dpos >= dend) throw DBAD
    tag = dbuf[dpos++]
  }
  switch (tag) {
    case T_ONE_BYTE: return readOneByte(readVarint())
    case T_INT32: {
      const u = readVarint()
      return (u >>> 1) ^ -(u & 1)
    }
    case T_BEGIN_OBJECT: return readObject()
    case T_BEGIN_DENSE: return readDenseArray()
    case T_UNDEFINED: return undefined
    case T_NULL: return null
    case T_TRUE: return true
    case T_FALSE: return false
    case T_DOUBLE: return readDouble()
    case T_UINT32: return readVarint()
    case T_TWO_BYTE: return readTwoByte(readVarint())
    case T_REF: {
      const id = readVarint()
      if (id >= nObjs) throw DBAD
      let obj = dobjs[id]
      if (obj === ALIASED_BUFFER) throw DNOALIAS
      if (obj === LAZY_BUFFER) obj = lazyBuffer(id)
      if (obj === PENDING || obj === null) throw DBAD
      if (obj instanceof ArrayBuffer && peekTag() === T_VIEW) return readView(obj)
      return obj
    }
    case T_BEGIN_SPARSE: return readSparseArray()
    case T_DATE: {
      const d = new Date(readDouble())
      dobjs[nObjs++] = d
      return d
    }
    case T_ARRAY_BUFFER: return readArrayBuffer()
    case T_TRANSFER: {
      const id = readVarint()
      if (dgroups === null || id >= dgroups.length || !dgroups[id].whole) throw DBAD
      const ab = dgroups[id].ab
      dobjs[nObjs++] = ab
      return peekTag() === T_VIEW ? readView(ab) : ab
    }
    case T_HOST: return readHostView()
    case T_BEGIN_MAP: return readMap()
    case T_BEGIN_SET: return readSet()
    case T_UTF8: {
      const len = readVarint()
      if (len > dend - dpos) throw DBAD
      dpos += len
      return utf8Slice.call(dbuf, dpos - len, dpos)
    }
    case T_BIGINT: return readBigInt()
    case T_TRUE_OBJECT: return addObject(Object(true))
    case T_FALSE_OBJECT: return addObject(Object(false))
    case T_NUMBER_OBJECT: return addObject(Object(readDouble()))
    case T_BIGINT_OBJECT: return addObject(Object(readBigInt()))
    case T_STRING_OBJECT: {
      const id = reserveId()
      dobjs[id] = Object(readString())
      return dobjs[id]
    }
    case T_REGEXP: return readRegExp()
    case T_ERROR: return readError()
    case T_RESIZABLE_ARRAY_BUFFER: return readResizableArrayBuffer()
    case T_VERIFY_OBJECT_COUNT: // legacy: a count to ignore, then the value
      readVarint()
      return readValue()
    default:
      // Shared array buffers, wasm, shared objects, stray view / hole tags:
      // nothing V8 could read without a delegate here either.
      throw DBAD
  }
}

function addObject (obj) {
  dobjs[nObjs++] = obj
  return obj
}

// An id taken before the object exists (as V8 does for errors, regexps and
// string objects); a reference to it until then is malformed.
function reserveId () {
  const id = nObjs
  dobjs[nObjs++] = PENDING
  return id
}
const PENDING = { pending: true }

function readString () {
  const value = readValue()
  if (typeof value !== 'string') throw DBAD
  return value
}

// Bitfield: bit 0 the sign, the rest the byte length of the little-endian digits.
function readBigInt () {
  const bitfield = readVarint()
  const len = bitfield >>> 1
  if (len > dend - dpos) throw DBAD
  // A negative zero: V8 refuses it, and has the last word.
  if (len === 0 && (bitfield & 1) === 1) throw DBAD
  let value = 0n
  let i = dpos + len
  dpos = i
  // Most significant 32-bit chunks first.
  while (i > dpos - len) {
    const from = Math.max(dpos - len, i - 4)
    let chunk = 0
    for (let j = i - 1; j >= from; j--) chunk = chunk * 256 + dbuf[j]
    value = (value << BigInt((i - from) * 8)) | BigInt(chunk)
    i = from
  }
  return (bitfield & 1) === 0 ? value : -value
}

// V8's flag bits: g i m y u s (linear) d v.
const REGEXP_FLAGS = ['g', 'i', 'm', 'y', 'u', 's', '', 'd', 'v']
function readRegExp () {
  const id = reserveId()
  const source = readString()
  const bits = readVarint()
  if (bits >= 1 << REGEXP_FLAGS.length || (bits & 64) !== 0) throw DBAD // unknown or 'linear'
  let flags = ''
  for (let i = 0; i < REGEXP_FLAGS.length; i++) if ((bits & (1 << i)) !== 0) flags += REGEXP_FLAGS[i]
  dobjs[id] = new RegExp(source, flags) // throws SyntaxError on a bad pattern, as V8 fails
  return dobjs[id]
}

const ERROR_CTORS = { E: EvalError, R: RangeError, F: ReferenceError, S: SyntaxError, T: TypeError, U: URIError }
const ERR_TAG_MESSAGE = 0x6d // m
const ERR_TAG_STACK = 0x73 // s
const ERR_TAG_CAUSE = 0x63 // c
const ERR_TAG_END = 0x2e // .

// Built like V8 builds it: the constructor's own stack capture is off (its
// stack is replaced anyway), 'stack' ends up a data property holding the sent
// string (or undefined), message and cause only when they were sent.
function readError () {
  const id = reserveId() // V8 registers the error only once it is complete
  let Ctor = Error
  let message
  let options
  let stack
  for (;;) {
    if (dpos >= dend) throw DBAD
    const tag = dbuf[dpos++] // a one-byte varint
    if (tag === ERR_TAG_END) break
    if (tag === ERR_TAG_MESSAGE) message = readString()
    else if (tag === ERR_TAG_STACK) stack = readString()
    else if (tag === ERR_TAG_CAUSE) options = { cause: readValue() }
    else if (tag < 0x80 && ERROR_CTORS[String.fromCharCode(tag)] !== undefined) Ctor = ERROR_CTORS[String.fromCharCode(tag)]
    else throw DBAD
  }
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  let err
  try {
    err = new Ctor(message, options)
  } finally {
    Error.stackTraceLimit = limit
  }
  err.stack = stack
  dobjs[id] = err
  return err
}

function readResizableArrayBuffer () {
  const len = readVarint()
  const max = readVarint()
  if (len > max || len > dend - dpos) throw DBAD
  const ab = new ArrayBuffer(len, { maxByteLength: max })
  new Uint8Array(ab).set(dbuf.subarray(dpos, dpos + len))
  dpos += len
  dobjs[nObjs++] = ab
  return peekTag() === T_VIEW ? readView(ab) : ab
}

function enter () {
  if (++ddepth > MAX_DECODE_DEPTH) throw DBAIL
}

// Property keys repeat across messages. Handing V8 the same string object
// each time spares it re-hashing and re-internalizing a fresh string for
// every keyed store, which costs more than the rest of decoding a small object.
// Keys of up to 16 bytes are cached by their bytes packed into 4 int32 words.
const KEY_CACHE_SIZE = 1024 // power of two
const KEY_CACHE_MAX = 16 // longest key cached, in bytes
const keyStrings = new Array(KEY_CACHE_SIZE).fill('')
const keyWords = new Int32Array(KEY_CACHE_SIZE * 4)
const keyLengths = new Int32Array(KEY_CACHE_SIZE).fill(-1)

function readKey (len) {
  if (len > dend - dpos) throw DBAD
  const p = dpos
  const b = dbuf
  let w0 = 0
  let w1 = 0
  let w2 = 0
  let w3 = 0
  for (let i = 0; i < len; i++) {
    const x = b[p + i] << ((i & 3) << 3)
    if (i < 4) w0 |= x
    else if (i < 8) w1 |= x
    else if (i < 12) w2 |= x
    else w3 |= x
  }
  let h = Math.imul(w0 ^ len, 0x9e3779b1)
  h = Math.imul(h ^ w1 ^ (h >>> 15), 0x85ebca6b)
  h = Math.imul(h ^ w2 ^ (h >>> 13), 0xc2b2ae35) ^ w3
  const slot = (h ^ (h >>> 16)) & (KEY_CACHE_SIZE - 1)
  const k = slot << 2
  if (keyLengths[slot] === len && keyWords[k] === w0 && keyWords[k + 1] === w1 && keyWords[k + 2] === w2 && keyWords[k + 3] === w3) {
    dpos = p + len
    return keyStrings[slot]
  }
  const key = readOneByte(len)
  keyStrings[slot] = key
  keyLengths[slot] = len
  keyWords[k] = w0
  keyWords[k + 1] = w1
  keyWords[k + 2] = w2
  keyWords[k + 3] = w3
  return key
}

// Properties up to `endTag`; returns how many. Keys are strings or numbers.
function readProperties (obj, endTag) {
  let count = 0
  for (;;) {
    let t = dpos < dend ? dbuf[dpos] : -1
    if (t === T_PADDING) t = peekTag()
    if (t === endTag) {
      dpos++
      return count
    }
    if (t < 0) throw DBAD
    let key
    if (t === T_ONE_BYTE) {
      // Inline one-byte varint: keys are short.
      let len = ++dpos < dend ? dbuf[dpos] : 0x80
      if (len < 0x80) dpos++
      else len = readVarint()
      key = len <= KEY_CACHE_MAX ? readKey(len) : readOneByte(len)
    } else {
      key = readValue()
      if (typeof key !== 'string' && typeof key !== 'number') throw DBAD
    }
    const value = readValue()
    // Assigning '__proto__' would set the prototype; V8 defines a property.
    if (key === '__proto__') defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
    else obj[key] = value
    count++
  }
}

function readObject () {
  if (++ddepth > MAX_DECODE_DEPTH) throw DBAIL
  const obj = {}
  dobjs[nObjs++] = obj
  const count = readProperties(obj, T_END_OBJECT)
  if (readVarint() !== count) throw DBAD
  ddepth--
  return obj
}

function readDenseArray () {
  if (++ddepth > MAX_DECODE_DEPTH) throw DBAIL
  const len = readVarint()
  if (len > dend - dpos) throw DBAD // every element takes at least one byte
  const arr = new Array(len)
  dobjs[nObjs++] = arr
  for (let i = 0; i < len; i++) {
    // (a padded hole tag is left to readValue, which bails to V8)
    const t = dpos < dend ? dbuf[dpos] : -1
    if (t === T_INT32) {
      dpos++
      const u = readVarint()
      arr[i] = (u >>> 1) ^ -(u & 1)
    } else if (t === T_HOLE) {
      dpos++
    } else {
      arr[i] = readValue()
    }
  }
  const count = readProperties(arr, T_END_DENSE)
  if (readVarint() !== count || readVarint() !== len) throw DBAD
  ddepth--
  return arr
}

function readSparseArray () {
  enter()
  const len = readVarint()
  const arr = new Array(len)
  dobjs[nObjs++] = arr
  const count = readProperties(arr, T_END_SPARSE)
  if (readVarint() !== count || readVarint() !== len) throw DBAD
  ddepth--
  return arr
}

function readMap () {
  enter()
  const map = new Map()
  dobjs[nObjs++] = map
  let count = 0
  while (peekTag() !== T_END_MAP) {
    if (dpos >= dend) throw DBAD
    const key = readValue()
    MapSet.call(map, key, readValue())
    count += 2
  }
  dpos++
  if (readVarint() !== count) throw DBAD
  ddepth--
  return map
}

function readSet () {
  enter()
  const set = new Set()
  dobjs[nObjs++] = set
  let count = 0
  while (peekTag() !== T_END_SET) {
    if (dpos >= dend) throw DBAD
    SetAdd.call(set, readValue())
    count++
  }
  dpos++
  if (readVarint() !== count) throw DBAD
  ddepth--
  return set
}

function copyOut (p, len) {
  if (len < 64) {
    const u = new Uint8Array(len)
    for (let i = 0; i < len; i++) u[i] = dbuf[p + i]
    return u.buffer
  }
  // Copy-constructing skips zero-filling memory that is overwritten anyway.
  return new Uint8Array(dbuf.subarray(p, p + len)).buffer
}

// Reads the 'V' record that follows an ArrayBuffer: [kind, offset, length].
// Reads the 'V' record that follows an ArrayBuffer; returns the kind and
// sets hOffset / hLength / hFlags.
let hOffset = 0
let hLength = 0
let hFlags = 0
const VIEW_LENGTH_TRACKING = 1
const VIEW_BACKED_BY_RAB = 2
function readViewHeader (bufferLength) {
  dpos++ // the 'V' tag (peeked)
  if (dpos >= dend) throw DBAD
  const kind = KIND_BY_SUBTAG[dbuf[dpos++]]
  const offset = readVarint()
  const length = readVarint()
  const flags = readVarint()
  if (kind < 0) throw DBAIL // a type this V8 has and we do not
  const size = VIEW_KINDS[kind][2]
  if (flags > 3 || offset > bufferLength || offset % size !== 0) throw DBAD
  if ((flags & VIEW_LENGTH_TRACKING) === 0 && (length > bufferLength - offset || length % size !== 0)) throw DBAD
  hOffset = offset
  hLength = length
  hFlags = flags
  return kind
}

function makeView (kind, ab, offset, length) {
  const k = VIEW_KINDS[kind]
  return new k[0](ab, offset, length / k[2])
}

function readView (ab) {
  const kind = readViewHeader(ab.byteLength)
  let view
  if (hFlags === 0) {
    view = makeView(kind, ab, hOffset, hLength)
  } else {
    // Views made on a resizable buffer: length-tracking ones keep tracking.
    if (!AB_RESIZABLE.call(ab)) throw DBAD
    const k = VIEW_KINDS[kind]
    view = (hFlags & VIEW_LENGTH_TRACKING) !== 0 ? new k[0](ab, hOffset) : new k[0](ab, hOffset, hLength / k[2])
  }
  dobjs[nObjs++] = view
  return view
}

// Small byte arrays are made without an ArrayBuffer of their own: V8 keeps
// them on its heap and only creates the buffer if someone asks for .buffer
// (allocating one costs ~250 ns). Their buffer's id slot holds LAZY_BUFFER.
const ON_HEAP_MAX = 64 // V8's limit for on-heap typed arrays
const LAZY_BUFFER = { lazy: true }
let lazyViews = [] // id, view, id, view...

function lazyBuffer (id) {
  for (let i = 0; i < lazyViews.length; i += 2) {
    if (lazyViews[i] === id) {
      const ab = lazyViews[i + 1].buffer
      dobjs[id] = ab
      return ab
    }
  }
  throw DBAD
}

function readArrayBuffer () {
  const len = readVarint()
  if (len > dend - dpos) throw DBAD
  const p = dpos
  dpos += len
  const id = nObjs
  dobjs[nObjs++] = null
  if (peekTag() !== T_VIEW) {
    const ab = copyOut(p, len)
    dobjs[id] = ab
    return ab
  }
  const kind = readViewHeader(len)
  if (hFlags !== 0) throw DBAD // this buffer is not resizable
  const offset = hOffset
  const length = hLength
  const at = dbuf.byteOffset + p + offset
  let view
  if (length <= ON_HEAP_MAX && length === len && VIEW_KINDS[kind][2] === 1 && kind !== DATA_VIEW_KIND) {
    view = new VIEW_KINDS[kind][0](length)
    for (let i = 0; i < length; i++) view[i] = dbuf[p + i]
    dobjs[id] = LAZY_BUFFER
    lazyViews.push(id, view)
  } else if (downed && length >= ALIAS_MIN && at % VIEW_KINDS[kind][2] === 0) {
    // Zero-copy: the caller gave us this buffer. If the ArrayBuffer itself
    // is referenced later the decode is redone copying (DNOALIAS).
    dobjs[id] = ALIASED_BUFFER
    view = makeView(kind, dbuf.buffer, at, length)
  } else {
    const ab = copyOut(p, len)
    dobjs[id] = ab
    view = makeView(kind, ab, offset, length)
  }
  dobjs[nObjs++] = view
  return view
}

// Host record written by CloneSerializer._writeHostObject.
function readHostView () {
  const id = nObjs
  dobjs[nObjs++] = null
  const kind = readVarint()
  const gid = readVarint()
  const offset = readVarint()
  const length = readVarint()
  const view = groupView(dgroups, kind, gid, offset, length)
  if (view === null) throw DBAD
  dobjs[id] = view
  return view
}

function groupView (groups, kind, gid, offset, length) {
  if (groups === null || kind >= VIEW_KINDS.length || gid >= groups.length) return null
  const g = groups[gid]
  const size = VIEW_KINDS[kind][2]
  const at = offset - g.lo + g.pad
  if (offset < g.lo || at + length > g.ab.byteLength || at % size !== 0 || length % size !== 0) return null
  return makeView(kind, g.ab, at, length)
}

// Parses the envelope's group table; returns [groups, start of the V8 stream].
function readEnvelope (bytes, start, end) {
  dbuf = bytes
  dpos = start + 1
  dend = end
  const n = readVarint()
  if (n > end - dpos) throw DBAD
  const groups = []
  for (let i = 0; i < n; i++) {
    const flags = readVarint()
    const lo = readVarint()
    const len = readVarint()
    if (flags > 1 || len > dend - dpos || (flags === 1 && lo !== 0)) throw DBAD
    // Pad in front with zeros so views keep their alignment mod 8.
    const pad = lo & 7
    const ab = new ArrayBuffer(pad + len)
    if (len > 0) new Uint8Array(ab, pad).set(bytes.subarray(dpos, dpos + len))
    dpos += len
    groups.push({ ab, lo, pad, whole: flags === 1 })
  }
  return [groups, dpos]
}

function decodeFast (bytes, start, end, owned, groups) {
  dbuf = bytes
  dpos = start
  dend = end
  downed = owned
  ddepth = 0
  dgroups = groups
  nObjs = 0
  const value = readValue()
  if (dpos !== dend) throw DBAD // trailing bytes
  return value
}

function clearDecoder () {
  for (let i = 0; i < nObjs; i++) dobjs[i] = undefined
  nObjs = 0
  if (lazyViews.length !== 0) lazyViews = []
  dbuf = null
  dgroups = null
}

class CloneDeserializer extends v8.Deserializer {
  constructor (bytes, groups) {
    super(bytes)
    this.groups = groups
    if (groups !== null) {
      for (let i = 0; i < groups.length; i++) if (groups[i].whole) this.transferArrayBuffer(i, groups[i].ab)
    }
  }

  _readHostObject () {
    const kind = this.readUint32()
    const gid = this.readUint32()
    const offset = this.readUint32()
    const length = this.readUint32()
    const view = groupView(this.groups, kind, gid, offset, length)
    if (view === null) throw badPayload()
    return view
  }
}

function decodeWithV8 (bytes, start, end, groups) {
  const d = new CloneDeserializer(bytes.subarray(start, end), groups)
  d.readHeader()
  const value = d.readValue()
  if (d._readRawBytes(0) !== end - start) throw badPayload() // trailing bytes
  return value
}

// Everything but the plain fast case: envelope, retries, V8.
function decodeSlow (bytes, start, end, owned, tryFast) {
  let groups = null
  if (bytes[start] === ENVELOPE) {
    const r = readEnvelope(bytes, start, end)
    groups = r[0]
    start = r[1]
    if (start >= end) throw DBAD
  }
  if (bytes[start] !== T_VERSION) throw DBAD
  if (tryFast && FAST && end - start >= 2 && bytes[start + 1] === WIRE_VERSION) {
    try {
      for (;;) {
        try {
          return decodeFast(bytes, start + 2, end, owned, groups)
        } catch (err) {
          // An aliased buffer is referenced: decode again copying.
          if (err === DNOALIAS && owned) owned = false
          // DBAD too: V8 has the last word on what is malformed.
          else if (isRetryable(err)) break
          else throw err
        }
      }
    } finally {
      clearDecoder()
    }
  }
  return decodeWithV8(bytes, start, end, groups)
}

// Failures of the fast decoder that V8 should get a look at.
function isRetryable (err) {
  return err === DBAIL || err === DBAD || err === DNOALIAS || err instanceof RangeError || err instanceof TypeError
}

function checkArgs (bytes, start, end) {
  if (!isView(bytes) || TA_TAG.call(bytes) !== 'Uint8Array') {
    const err = new TypeError('The "bytes" argument must be a Uint8Array or Buffer.')
    err.code = 'ERR_INVALID_ARG_TYPE'
    throw err
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > bytes.length || start > end) {
    const err = new RangeError('start/end are out of range for "bytes".')
    err.code = 'ERR_OUT_OF_RANGE'
    throw err
  }
}

function deserialize (bytes, start, end, owned) {
  if (start === undefined) start = 0
  if (end === undefined) end = bytes.length
  // Cheap argument check first; the precise one handles other realms etc.
  if (!(bytes instanceof Uint8Array) || (start | 0) !== start || (end | 0) !== end || start < 0 || end > bytes.length || start > end) {
    checkArgs(bytes, start, end)
  }
  const v8Stream = FAST && end - start > 2 && bytes[start] === T_VERSION && bytes[start + 1] === WIRE_VERSION
  if (v8Stream) {
    if (bytes[start + 2] === T_BEGIN_DENSE) {
      const args = end - start > 6 ? decodePrimitiveArgs(bytes, start + 3, end) : undefined
      if (args !== undefined) return args
    } else {
      const value = decodePrimitive(bytes, start + 2, end)
      if (value !== NOT_PRIMITIVE) return value
    }
  }
  if (v8Stream && !decoding) {
    // The common case, kept flat: one V8-format stream the fast decoder reads.
    decoding = true
    let value
    let ok = false
    let retryFast = false
    try {
      value = decodeFast(bytes, start + 2, end, owned === true, null)
      ok = true
    } catch (err) {
      if (!isRetryable(err)) {
        clearDecoder()
        decoding = false
        throw badPayload(err)
      }
      retryFast = err === DNOALIAS
    }
    clearDecoder()
    decoding = false
    if (ok) return value
    // Failed (retryable): only an aliasing conflict is worth a second fast try.
    return deserializeSlow(bytes, start, end, false, retryFast)
  }
  return deserializeSlow(bytes, start, end, owned === true, true)
}

// The other side of encodePrimitiveArgs: an array of at most PRIMITIVE_ARGS elements, each an
// int, a double, a short one-byte string, true, false, null or undefined, and nothing after it.
// Anything else (undefined): the general decoder reads it. Uses no decoder state, so it may run
// inside another decode.
function decodePrimitiveArgs (b, p, end) {
  const len = b[p++]
  if (len > PRIMITIVE_ARGS) return undefined
  const arr = new Array(len)
  for (let i = 0; i < len; i++) {
    if (p >= end) return undefined
    const tag = b[p++]
    if (tag === T_INT32) {
      if (p >= end) return undefined
      let byte = b[p++]
      let u = byte
      if (byte >= 0x80) {
        u = byte & 0x7f
        let mul = 0x80
        for (let k = 1; ; k++) {
          if (p >= end || k === 5) return undefined
          byte = b[p++]
          if (k === 4 && byte > 0x0f) return undefined
          u += (byte & 0x7f) * mul
          if (byte < 0x80) break
          mul *= 0x80
        }
      }
      arr[i] = (u >>> 1) ^ -(u & 1)
    } else if (tag === T_ONE_BYTE) {
      const n = p < end ? b[p++] : 0x80
      if (n >= SHORT_STRING || n > end - p) return undefined
      let str = ''
      for (let k = p; k < p + n; k++) str += fromCharCode(b[k])
      p += n
      arr[i] = str
    } else if (tag === T_DOUBLE) {
      if (end - p < 8) return undefined
      for (let k = 0; k < 8; k++) f64Bytes[k] = b[p + k]
      p += 8
      arr[i] = f64[0]
    } else if (tag === T_TRUE) {
      arr[i] = true
    } else if (tag === T_FALSE) {
      arr[i] = false
    } else if (tag === T_NULL) {
      arr[i] = null
    } else if (tag === T_UNDEFINED) {
      arr[i] = undefined
    } else {
      return undefined
    }
  }
  if (end - p !== 3 || b[p] !== T_END_DENSE || b[p + 1] !== 0 || b[p + 2] !== len) return undefined
  return arr
}

// The other side of encodePrimitive for what answers usually are: an int, true, false, null or
// undefined, and nothing after it; NOT_PRIMITIVE for anything else (the general decoder reads
// it). Not inside another decode: the varint is read with the decoder's own state.
const NOT_PRIMITIVE = Symbol('not a primitive')
function decodePrimitive (b, p, end) {
  const tag = b[p]
  if (end - p === 1) {
    if (tag === T_TRUE) return true
    if (tag === T_FALSE) return false
    if (tag === T_NULL) return null
    if (tag === T_UNDEFINED) return undefined
    return NOT_PRIMITIVE
  }
  if (tag !== T_INT32 || decoding) return NOT_PRIMITIVE
  dbuf = b
  dpos = p + 1
  dend = end
  let value = NOT_PRIMITIVE
  try {
    const u = readVarint()
    if (dpos === end) value = (u >>> 1) ^ -(u & 1)
  } catch {
    // malformed: the general decoder says how
  }
  dbuf = null
  return value
}

function deserializeSlow (bytes, start, end, owned, tryFast) {
  if (end - start < 2) throw badPayload()
  const nested = decoding
  const saved = nested ? [dbuf, dpos, dend, downed, ddepth, dobjs, nObjs, dgroups, lazyViews] : null
  if (nested) {
    dobjs = []
    lazyViews = []
  }
  decoding = true
  try {
    return decodeSlow(bytes, start, end, owned, tryFast)
  } catch (err) {
    if (err !== null && typeof err === 'object' && err.code === 'ERR_IPC_BAD_PAYLOAD') throw err
    throw badPayload(err === DBAD || err === DBAIL ? undefined : err)
  } finally {
    decoding = nested
    if (nested) {
      dbuf = saved[0]
      dpos = saved[1]
      dend = saved[2]
      downed = saved[3]
      ddepth = saved[4]
      dobjs = saved[5]
      nObjs = saved[6]
      dgroups = saved[7]
      lazyViews = saved[8]
    }
  }
}

module.exports = { serialize, serializeArgs, takeSplices, deserialize, setLargeAllocator }
