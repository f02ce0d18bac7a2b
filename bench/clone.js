'use strict'

// Micro-benchmark for lib/clone.js.
//
//   node bench/clone.js [--runs N] [--filter text]
//
// For every case it times, per call: the round trip deserialize(serialize(v)),
// serialize alone, deserialize alone, and V8's own round trip through the
// base v8.Serializer / v8.Deserializer classes. Each timing is the MEDIAN of
// N runs (default 7) of a loop sized to ~100 ms, after a warm-up. Every loop
// is compiled separately (new Function) so its call sites stay monomorphic
// and cases do not disturb each other's type feedback.

const v8 = require('v8')
const clone = require('../lib/clone')

const argv = process.argv.slice(2)
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt)
const RUNS = Number(opt('--runs', 7))
const FILTER = opt('--filter', '')

function v8RoundTrip (value) {
  const s = new v8.Serializer()
  s.writeHeader()
  s.writeValue(value)
  const d = new v8.Deserializer(s.releaseBuffer())
  d.readHeader()
  return d.readValue()
}

const LOOPS = {
  rt: 'r = clone.deserialize(clone.serialize(make(i)))',
  ser: 'r = clone.serialize(make(i))',
  des: 'r = clone.deserialize(encoded)',
  v8: 'r = v8RoundTrip(make(i))'
}

function compileLoop (body, make, encoded) {
  // eslint-disable-next-line no-new-func
  return new Function('clone', 'v8RoundTrip', 'make', 'encoded', `
    return function (n) {
      let r
      let sink = 0
      for (let i = 0; i < n; i++) {
        ${body}
        sink += r === undefined ? 0 : 1
      }
      return sink
    }`)(clone, v8RoundTrip, make, encoded)
}

function median (xs) {
  const s = xs.slice().sort((a, b) => a - b)
  return s[s.length >> 1]
}

// ns per call: median over RUNS runs.
function measure (body, make, encoded, targetMs = 100) {
  return measureLoop(compileLoop(body, make, encoded), targetMs)
}

function measureLoop (loop, targetMs = 100) {
  let n = 16
  for (;;) { // warm-up and calibration
    const t0 = process.hrtime.bigint()
    loop(n)
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (ms > 25) {
      n = Math.max(1, Math.round(n * targetMs / ms))
      break
    }
    n *= 4
  }
  const runs = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint()
    loop(n)
    runs.push(Number(process.hrtime.bigint() - t0) / n)
  }
  return { median: median(runs), min: Math.min(...runs) }
}

function fmtNs (ns) {
  if (ns >= 1e6) return (ns / 1e6).toFixed(2) + ' ms'
  if (ns >= 1e4) return (ns / 1e3).toFixed(1) + ' µs'
  return ns.toFixed(0) + ' ns'
}
// "median (min)"
const fmt = (t) => `${fmtNs(t.median)} (${fmtNs(t.min).replace(/ .*/, '')})`

const MiB = new Uint8Array(1024 * 1024).map((_, i) => i)
class Point { constructor (x, y) { this.x = x; this.y = y } }
const constant = (v) => () => v

const cases = [
  // [name, make(i) -> value]; values that do not depend on i are built once.
  ["['ping']", () => ['ping']],
  ['[i]', (i) => [i]],
  ["[{ id: 1, name: 'ly' }]", () => [{ id: 1, name: 'ly' }]],
  ["['channel', i, true, null]", (i) => ['channel', i, true, null]],
  ['[nested config object]', constant([{ a: 1, b: 'two', c: [1, 2, 3], d: { e: null, f: 1.5 }, g: new Date(0) }])],
  ['[100 small objects]', constant([Array.from({ length: 100 }, (_, i) => ({ id: i, ok: true }))])],
  ['[1000 ints]', constant([Array.from({ length: 1000 }, (_, i) => i)])],
  ['[1 KiB string]', constant(['x'.repeat(1024)])],
  ['[64 KiB string]', constant(['x'.repeat(65536)])],
  ['[64 KiB two-byte string]', constant(['\u1234'.repeat(32768)])],
  ['[16 B Buffer (pooled)]', constant([Buffer.from('0123456789abcdef')])],
  ['[1 MiB Uint8Array]', constant([MiB])],
  ['[Map] (V8 fallback)', constant([new Map([[1, 'a'], [2, 'b']])])],
  ['[class instance] (V8 fallback)', constant([new Point(1, 2)])]
]

console.log(`node ${process.version} ${process.arch}; time per call as "median (min)" of ${RUNS} runs of ~100 ms each\n`)
console.log('case'.padEnd(34) + 'round trip'.padStart(18) + 'serialize'.padStart(18) + 'deserialize'.padStart(18) + 'v8 round trip'.padStart(20) + 'bytes'.padStart(9))
// Warm the codec up on every selected case first, so each case is measured
// with the type feedback of a process that sends varied messages (as a real
// one does) rather than after training on that single shape.
const selected = cases.filter(([name]) => !FILTER || name.includes(FILTER))
for (const [, make] of selected) {
  const encoded = Uint8Array.from(clone.serialize(make(1)))
  const loop = compileLoop(LOOPS.rt, make, encoded)
  const until = Date.now() + 30
  while (Date.now() < until) loop(64)
}

for (const [name, make] of selected) {
  const encoded = Uint8Array.from(clone.serialize(make(1)))
  const t = {}
  for (const [k, body] of Object.entries(LOOPS)) t[k] = measure(body, make, encoded)
  console.log(name.padEnd(34) + fmt(t.rt).padStart(18) + fmt(t.ser).padStart(18) + fmt(t.des).padStart(18) + fmt(t.v8).padStart(20) + String(encoded.length).padStart(9))
}

if (!FILTER || FILTER.includes('MiB') || FILTER === 'memcpy') {
  // The floor for a 1 MiB payload: allocate + copy the bytes once. A round
  // trip copies twice (into the message, out of it) unless `owned` aliases.
  const enc = Uint8Array.from(clone.serialize([MiB]))
  const memcpy = measureLoop((n) => { let s = 0; for (let i = 0; i < n; i++) s += new Uint8Array(MiB).length; return s })
  const owned = measureLoop((n) => { let s = 0; for (let i = 0; i < n; i++) s += clone.deserialize(enc, 0, enc.length, true)[0].length; return s })
  console.log(`\n1 MiB: one memcpy (new Uint8Array(src)) ${fmt(memcpy)}; deserialize with owned=true (zero-copy) ${fmt(owned)}`)
}
