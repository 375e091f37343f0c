/**
 * `npm run bench:scale`: how push and pull latency grow with the size of ONE workspace's change log.
 *
 * The log of workspace 'ws-scale' is grown to 10k, 100k and 1M rows THROUGH THE PACKAGE: this
 * package's SyncGateway service (`SyncGateway.Default` over `Migrations.layerSqlFile(path,
 * { synchronous })` in a ManagedRuntime) pushes 100-op batches of new `messages` puts made by a
 * deterministic generator (./messageOps.mjs: same op and payload shape as ../../shared/bench/workload.mjs,
 * whose all-in-memory batches would not fit 1M ops). No raw inserts: every row goes through decoding,
 * LWW, the version counter and the materialized table, as a client's would.
 *
 * At each size, after a full GC:
 *   push_p50_ms        p50 of `--samples` (50) pushes of one 100-op batch of new rows
 *   pull_head_p50_ms   p50 of `--samples` pulls of a 1000-change page starting just below the head
 *   pull_mid_p50_ms    p50 of `--samples` pulls of a 1000-change page from the middle of the log
 *   rss_mb             process.memoryUsage().rss
 *   heap_used_mb, heap_total_mb  V8's live heap after the GC, and what V8 keeps committed for it
 *                      (the young generation stays at its grown size: the gap is mostly that)
 *   db_mb, wal_mb      size of the database file and of its -wal file
 * The measuring pushes add rows too (50 x 100 = 5,000), so a size is reached "at least".
 * Prints progress on stderr, a Markdown table, then one JSON line per metric and size:
 *   {"metric","rows","value"}
 * and one per ratio {"metric":"<m>_ratio","rows":<largest>,"base":10000,"value"} =
 * p50 at the largest size / p50 at 10k (target <= 1.3; RSS target < 150 MB).
 *
 *   node --expose-gc bench/scale.mjs [--max=1000000] [--sizes=10000,100000,1000000]
 *                                    [--samples=50] [--sync=NORMAL] [--keep]
 * It imports the built package (dist/): `npm run bench:scale` builds first.
 */
// Modules, not the "effect" barrel: the barrel loads every module of effect (~10 MB of RSS), which
// would be counted against the package whether or not the package loads them.
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { median } from "../../shared/bench/harness.mjs"
import { Migrations, SyncGateway } from "../dist/index.js"
import { makeMessageOps } from "./messageOps.mjs"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const max = Number(args.max ?? 1_000_000)
const sizes = (args.sizes ?? "10000,100000,1000000").split(",").map(Number).filter((n) => n <= max)
if (sizes.length === 0) sizes.push(max)
const samples = Number(args.samples ?? 50)
const synchronous = args.sync ?? "NORMAL"
const BATCH = 100
const PAGE = 1000

setFlagsFromString("--expose-gc")
const gc = globalThis.gc ?? runInNewContext("gc")

const WORKSPACE_ID = "ws-scale"
const session = { userId: "bench-user" }
const scope = { workspaceId: WORKSPACE_ID }

const gen = makeMessageOps({ seed: 0x5ca1e })
const newBatch = () => gen.batch(scope, BATCH)

// ---- the package ----
const dir = mkdtempSync(join(tmpdir(), "or3-bench-scale-"))
const path = join(dir, "scale.sqlite")
const runtime = ManagedRuntime.make(
  SyncGateway.Default.pipe(Layer.provideMerge(Migrations.layerSqlFile(path, { synchronous })))
)
const gateway = await runtime.runPromise(SyncGateway)
const push = (batch) => runtime.runPromise(gateway.push(batch, session))
const pull = (cursor) => runtime.runPromise(gateway.pull({ scope, cursor, limit: PAGE }, session))

const fileMb = (p) => {
  try {
    return statSync(p).size / 1048576
  } catch {
    return 0
  }
}
const round = (x) => (x >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000)
const timed = async (f) => {
  const t0 = performance.now()
  const r = await f()
  return [performance.now() - t0, r]
}

let head = 0
const pushChecked = async (batch) => {
  const r = await push(batch)
  if (r.serverVersion !== head + BATCH || r.results.some((x) => x.success !== true)) {
    throw new Error(`push: head ${head} -> ${r.serverVersion}, ${JSON.stringify(r.results.find((x) => x.success !== true))}`)
  }
  head = r.serverVersion
}
const pullChecked = async (cursor) => {
  const p = await pull(cursor)
  if (p.changes.length !== PAGE) throw new Error(`pull from ${cursor}: ${p.changes.length} changes, expected ${PAGE}`)
}

gc()
const baselineRss = process.memoryUsage().rss / 1048576
const results = [] // {rows, push_p50_ms, pull_head_p50_ms, pull_mid_p50_ms, rss_mb, db_mb, wal_mb}
const started = performance.now()
try {
  for (const size of sizes) {
    // Bulk-load up to `size` through the service, with progress on stderr.
    const loadStart = performance.now()
    let lastReport = loadStart
    while (head < size) {
      await pushChecked(newBatch())
      const now = performance.now()
      if (now - lastReport > 5000) {
        const rate = Math.round((head - (results.at(-1)?.rowsAfter ?? 0)) / ((now - loadStart) / 1000))
        process.stderr.write(`  loading: ${head.toLocaleString("en")} / ${size.toLocaleString("en")} rows (${rate} rows/s)\n`)
        lastReport = now
      }
    }
    const rows = head
    process.stderr.write(`${rows.toLocaleString("en")} rows loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s; measuring\n`)

    // Warm-up (not counted): a few pulls and one push, so the first size does not pay for JIT.
    for (let i = 0; i < 20; i++) {
      await pullChecked(rows - PAGE)
      await pullChecked(Math.floor(rows / 2))
    }
    await pushChecked(newBatch())
    gc()
    // Pulls first (on exactly `rows` rows), then pushes (which add rows).
    const headLat = []
    const midLat = []
    for (let i = 0; i < samples; i++) {
      const nearHead = rows - PAGE - (i % 10) * 100 // a full page ending at most 900 below the head
      const middle = Math.floor(rows / 2) + (i % 10) * 100 - 500
      headLat.push((await timed(() => pullChecked(nearHead)))[0])
      midLat.push((await timed(() => pullChecked(middle)))[0])
    }
    const pushLat = []
    const batches = Array.from({ length: samples }, newBatch)
    for (const batch of batches) pushLat.push((await timed(() => pushChecked(batch)))[0])
    gc()
    const memory = process.memoryUsage()
    const result = {
      rows,
      rowsAfter: head,
      push_p50_ms: median(pushLat),
      pull_head_p50_ms: median(headLat),
      pull_mid_p50_ms: median(midLat),
      rss_mb: memory.rss / 1048576,
      heap_used_mb: memory.heapUsed / 1048576,
      heap_total_mb: memory.heapTotal / 1048576,
      db_mb: fileMb(path),
      wal_mb: fileMb(`${path}-wal`)
    }
    results.push(result)
    process.stderr.write(`  ${JSON.stringify(result)}\n`)
  }
} finally {
  await runtime.dispose()
  if (args.keep === undefined) rmSync(dir, { recursive: true, force: true })
  else process.stderr.write(`kept ${path}\n`)
}

const metrics = [
  ["push_p50_ms", "push p50 ms (100 ops)"],
  ["pull_head_p50_ms", "pull p50 ms (1000, head)"],
  ["pull_mid_p50_ms", "pull p50 ms (1000, middle)"],
  ["rss_mb", "RSS MB"],
  ["heap_used_mb", "V8 heap used MB"],
  ["heap_total_mb", "V8 heap committed MB"],
  ["db_mb", "database MB"],
  ["wal_mb", "WAL MB"]
]
const first = results[0]
const last = results.at(-1)
const ratioOf = (m) => last[m] / first[m]
console.log(`scale: one workspace, synchronous ${synchronous}, ${samples} samples per metric, ` +
  `RSS after opening the runtime ${baselineRss.toFixed(1)} MB, ` +
  `node ${process.version}, ${((performance.now() - started) / 1000).toFixed(0)} s in all`)
console.log(`| metric | ${results.map((r) => `${r.rows.toLocaleString("en")} rows`).join(" | ")} | ratio last/first |`)
console.log(`|---|${results.map(() => "---|").join("")}---|`)
for (const [m, label] of metrics) {
  const ratio = m.endsWith("_ms") ? round(ratioOf(m)).toFixed(2) : "-"
  console.log(`| ${label} | ${results.map((r) => round(r[m]).toFixed(m.endsWith("_ms") ? 3 : 1)).join(" | ")} | ${ratio} |`)
}
for (const r of results) {
  for (const [m] of metrics) console.log(JSON.stringify({ metric: m, rows: r.rows, value: round(r[m]) }))
}
console.log(JSON.stringify({ metric: "rss_mb", rows: 0, value: round(baselineRss) }))
for (const m of ["push_p50_ms", "pull_head_p50_ms", "pull_mid_p50_ms"]) {
  console.log(JSON.stringify({ metric: `${m}_ratio`, rows: last.rows, base: first.rows, value: round(ratioOf(m)) }))
}
