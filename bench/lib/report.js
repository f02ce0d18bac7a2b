'use strict'
// Number formatting, and the generated results section of bench/README.md (from results.json).

const fs = require('fs')

const START = '<!-- results:start -->'
const END = '<!-- results:end -->'

function sig(v) {
  const a = Math.abs(v)
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

/** A value in its unit, without the unit (msg/s scaled to k/M, with the suffix). */
function num(v, unit) {
  if (v == null || Number.isNaN(v)) return '—'
  if (unit === 'msg/s') {
    if (v >= 1e6) return (v / 1e6).toFixed(2) + 'M'
    if (v >= 1e3) return (v / 1e3).toFixed(0) + 'k'
    return v.toFixed(0)
  }
  return sig(v)
}

function fmt(v, unit) {
  if (v == null) return '—'
  return `${num(v, unit)} ${unit}`
}

function ratio(a, b) {
  if (a == null || b == null || b === 0) return '—'
  const r = a / b
  return (r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)) + '×'
}

const MODES = ['unpinned', 'pinned']

function cell(agg, metric) {
  if (!agg) return 'not run'
  if (agg.median == null) return 'failed'
  let s = fmt(agg.median, metric.unit)
  if (metric.latency) s += ` (p90 ${num(agg.p90, metric.unit)}, p99 ${num(agg.p99, metric.unit)})`
  return s
}

function label(entry, subject) {
  return (entry.subjectLabels && entry.subjectLabels[subject]) || subject
}

function opText(t, unit) {
  const op = t.op === '<=' ? '≤' : '≥'
  if (t.vs !== undefined) return `${op} ${t.vs}`
  return unit === 'msg/s' ? `${op} ${t.value / 1e6}M msg/s` : `${op} ${t.value} ${unit}`
}

function mark(pass) {
  return pass === null ? '?' : pass ? '✓' : '✗'
}

/** The addon a run loaded (recorded since group C; older runs did not). */
function addonCell(r) {
  const a = r.addonAtStart
  const b = r.addonAtEnd
  if (!a) return 'not recorded'
  const text = x => `${x.sha256.slice(0, 12)} (${x.mtime.replace('T', ' ').replace(/\.\d+Z$/, 'Z')})`
  const git = r.git ? `; repo at ${r.git.head}${r.git.changedOutsideBench.length > 0 ? ` + ${r.git.changedOutsideBench.length} changed file(s) outside bench/` : ''}` : ''
  if (b && b.sha256 !== a.sha256) return `**changed during the run**: ${text(a)} → ${text(b)}${git}`
  return text(a) + git
}

function machineTable(results) {
  const runs = Object.entries(results.runs)
  const out = []
  const m = runs[runs.length - 1][1].machine
  out.push('| | |', '| --- | --- |')
  out.push(`| CPU | ${m.cpu}${m.cpuMHz ? ` (${Math.round(m.cpuMHz)} MHz)` : ''} |`)
  out.push(`| cores | ${m.cores} |`)
  out.push(`| RAM | ${m.ramGiB} GiB |`)
  out.push(`| kernel | ${m.kernel} |`)
  out.push(`| Node | ${m.node} (${m.arch}) |`)
  out.push(`| peers | ${Object.entries(m.npmPeers).map(([k, v]) => `${k} ${v}`).join(', ')} |`)
  out.push('')
  out.push('| run | started (UTC) | scenarios in the tables from it | repetitions | modes | quick | load average at start → end (1/5/15 min) | addon sha256 (built); repo |')
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- |')
  runs.forEach(([id, r], i) => {
    const ids = Object.values(results.scenarios)
      .filter(e => e.run === id)
      .map(e => e.id)
    out.push(
      `| ${i + 1} | ${id.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} | ${ids.join(' ')} | ${r.reps} per subject per mode | ${r.modes.join(', ')} | ${r.quick ? 'yes (smoke run: fewer iterations)' : 'no'} | ${r.loadavgAtStart.join(' ')} → ${(r.loadavgAtEnd || []).join(' ')} | ${addonCell(r)} |`,
    )
  })
  if (runs.length > 1) out.push('', 'The results come from more than one run: each scenario cell names its run.')
  return out
}

function groupTables(results) {
  const out = []
  const runIds = Object.keys(results.runs)
  const runTag = e => (runIds.length > 1 ? ` [run ${runIds.indexOf(e.run) + 1}]` : '')
  const groups = new Map()
  for (const e of Object.values(results.scenarios)) {
    if (!groups.has(e.group)) groups.set(e.group, [])
    groups.get(e.group).push(e)
  }
  for (const [group, entries] of groups) {
    out.push(`### ${group}. ${entries[0].groupTitle}`, '')
    out.push(
      '| scenario | ipc-main unpinned | peer unpinned | ratio | ipc-main pinned | peer pinned | ratio | target |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    )
    const notes = []
    const scaled = entries.filter(e => e.layout === 'scale')
    for (const e of entries) {
      if (e.layout === 'scale') continue
      for (const metric of e.metrics) {
        const data = e.results[metric.key]
        const peers = e.subjects.filter(s => s !== 'ipc-main')
        const targets = (e.targetResults || [])
          .filter(t => t.metric === metric.key)
          .map(t => `${opText(t, metric.unit)} ${t.mode} ${mark(t.pass)}`)
          .join('; ')
        const rows = peers.length > 0 ? peers : [null]
        rows.forEach((peer, i) => {
          const name = `${e.id} ${metric.label}${peer ? ` — vs ${label(e, peer)}` : ''}${runTag(e)}`
          const cells = [name]
          for (const mode of MODES) {
            const mine = data[mode] && data[mode]['ipc-main']
            const theirs = peer && data[mode] ? data[mode][peer] : null
            cells.push(cell(mine, metric))
            cells.push(peer ? `${label(e, peer)}: ${cell(theirs, metric)}` : 'n/a')
            cells.push(peer ? ratio(mine && mine.median, theirs && theirs.median) : '—')
          }
          cells.push(i === 0 ? targets || '' : '')
          out.push(`| ${cells.join(' | ')} |`)
        })
      }
      const mine = e.subjects.filter(x => x !== 'ipc-main').length === 0
      for (const m of e.missing || []) {
        notes.push(mine ? `${e.id}: no peer row: ${m.why}.` : `${e.id}: no ${m.label || m.subject} row: ${m.why}.`)
      }
    }
    out.push('')
    for (const n of notes) out.push(n, '')
    for (const e of scaled) out.push(...scaleTables(e, runTag(e)))
  }
  return out
}

// A scenario whose subjects are sizes of one ipc-main setup (C5: renderer processes per main):
// one row per subject, each size compared with the smaller ones instead of with a peer.

/** A size's msg/s against each smaller size's, e.g. "3.68× 1 child, 1.02× 50 children". */
function againstSmaller(e, key, mode, i) {
  const data = e.results[key][mode] || {}
  const here = data[e.subjects[i]]
  const parts = e.subjects.slice(0, i).map(s => `${ratio(here && here.median, data[s] && data[s].median)} ${label(e, s)}`)
  return parts.length > 0 ? parts.join(', ') : '—'
}

/**
 * The cliff check: a size's aggregate msg/s is at least `SCALE_CLIFF` × the best of the smaller
 * sizes' (null when not measured).
 */
const SCALE_CLIFF = 0.5
function cliffCheck(e, key, mode) {
  const data = e.results[key][mode]
  if (!data) return null
  const meds = e.subjects.map(s => data[s] && data[s].median)
  if (meds.some(m => m == null)) return null
  let worst = Infinity
  for (let i = 1; i < meds.length; i++) worst = Math.min(worst, meds[i] / Math.max(...meds.slice(0, i)))
  return { worst, pass: worst >= SCALE_CLIFF }
}

function scaleTables(e, tag) {
  const m = key => e.metrics.find(x => x.key === key)
  const get = (key, mode, s) => e.results[key] && e.results[key][mode] && e.results[key][mode][s]
  const out = [`#### ${e.id} ${e.title}${tag}`, '', `${e.how}`, '']
  out.push(
    `| renderer processes | ${m('send').label} unpinned | vs fewer | ${m('send').label} pinned | vs fewer | ${m('sync').label} unpinned | ${m('sync').label} pinned | ${m('ready').label} unpinned / pinned |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  )
  e.subjects.forEach((s, i) => {
    out.push(
      `| ${label(e, s)} | ${cell(get('send', 'unpinned', s), m('send'))} | ${againstSmaller(e, 'send', 'unpinned', i)} | ` +
        `${cell(get('send', 'pinned', s), m('send'))} | ${againstSmaller(e, 'send', 'pinned', i)} | ` +
        `${cell(get('sync', 'unpinned', s), m('sync'))} | ${cell(get('sync', 'pinned', s), m('sync'))} | ` +
        `${cell(get('ready', 'unpinned', s), m('ready'))} / ${cell(get('ready', 'pinned', s), m('ready'))} |`,
    )
  })
  out.push('')
  out.push('| renderer processes | main RSS before → peak → after, unpinned | pinned | (peak − before) ÷ N, unpinned / pinned |')
  out.push('| --- | --- | --- | --- |')
  const rss = (mode, s) => {
    const [b, p, a] = ['rssBefore', 'rssPeak', 'rssAfter'].map(k => get(k, mode, s))
    if (!b || b.median == null || !p || p.median == null) return 'not run'
    return `${num(b.median, 'MiB')} → ${num(p.median, 'MiB')} → ${num(a && a.median, 'MiB')} MiB`
  }
  const perChild = (mode, s) => {
    const b = get('rssBefore', mode, s)
    const p = get('rssPeak', mode, s)
    const n = Number(String(s).replace(/\D/g, ''))
    if (!b || b.median == null || !p || p.median == null || !n) return '—'
    return `${num(((p.median - b.median) * 1024) / n, 'KiB')} KiB`
  }
  e.subjects.forEach(s => {
    out.push(`| ${label(e, s)} | ${rss('unpinned', s)} | ${rss('pinned', s)} | ${perChild('unpinned', s)} / ${perChild('pinned', s)} |`)
  })
  out.push('')
  const checks = MODES.map(mode => {
    const c = cliffCheck(e, 'send', mode)
    return c === null
      ? `${mode}: not measured`
      : `${mode} ${mark(c.pass)} (worst: ${c.worst.toFixed(2)}× the best of the smaller counts)`
  })
  out.push(
    `No throughput cliff (each count's aggregate msg/s ≥ ${SCALE_CLIFF}× the best of the smaller counts; a check of ours, not a target from the issue): ${checks.join('; ')}.`,
    '',
  )
  return out
}

function targetTable(results) {
  const out = ['### Targets', '', '| target | ipc-main median | threshold | ✓/✗ |', '| --- | --- | --- | --- |']
  for (const e of Object.values(results.scenarios)) {
    for (const t of e.targetResults || []) {
      const unit = e.metrics.find(m => m.key === t.metric).unit
      const against = t.vs !== undefined ? `${t.vs} ${fmt(t.threshold, unit)}` : opText(t, unit)
      out.push(`| ${e.id} ${t.label} | ${fmt(t.measured, unit)} | ${against} | ${mark(t.pass)} |`)
    }
  }
  out.push('')
  return out
}

function spreadTable(results) {
  const out = [
    '### Spread between repetitions',
    '',
    'Each cell: the lowest and highest of the per-process medians, and (highest − lowest) ÷ median of medians.',
    '',
    '| scenario | subject | unpinned | pinned |',
    '| --- | --- | --- | --- |',
  ]
  for (const e of Object.values(results.scenarios)) {
    for (const metric of e.metrics) {
      for (const subject of e.subjects) {
        const cells = MODES.map(mode => {
          const a = e.results[metric.key][mode] && e.results[metric.key][mode][subject]
          if (!a || a.median == null) return '—'
          const fail = a.failed ? `, ${a.failed} failed` : ''
          return `${num(a.spread.min, metric.unit)}–${num(a.spread.max, metric.unit)} ${metric.unit} (${(a.spread.relative * 100).toFixed(0)}%, ${a.reps.length} reps${fail})`
        })
        out.push(`| ${e.id} ${metric.label} | ${label(e, subject)} | ${cells.join(' | ')} |`)
      }
    }
  }
  out.push('')
  return out
}

function failures(results) {
  const bad = Object.values(results.scenarios).flatMap(e => e.processes.filter(p => p.error))
  if (bad.length === 0) return ['Every scenario process printed its result and exited by itself.', '']
  const out = ['### Failed processes', '']
  for (const p of bad) out.push(`- ${p.scenario} ${p.mode} rep ${p.rep + 1} ${p.subject}: ${p.error.split('\n')[0]}`)
  out.push('')
  return out
}

function section(results) {
  return [
    START,
    '<!-- Generated by bench/run.js from bench/results.json: edits between these markers are overwritten. -->',
    '',
    '### Machine',
    '',
    ...machineTable(results),
    '',
    'ratio = ipc-main median ÷ peer median (µs and ms: lower is faster; msg/s: higher is faster).',
    '',
    ...groupTables(results),
    ...targetTable(results),
    ...spreadTable(results),
    ...failures(results),
    END,
  ].join('\n')
}

/** Replaces the generated section of the README (appends it if the markers are missing). */
function updateReadme(file, results) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const generated = section(results)
  const a = text.indexOf(START)
  const b = text.indexOf(END)
  const next = a >= 0 && b > a ? text.slice(0, a) + generated + text.slice(b + END.length) : `${text}\n## Results\n\n${generated}\n`
  fs.writeFileSync(file, next)
}

module.exports = { num, fmt, ratio, updateReadme }
