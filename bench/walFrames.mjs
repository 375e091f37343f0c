/**
 * `node bench/walFrames.mjs [--compare=<name>:<dist>,...] [--drop-index=<name>]`: how many pages
 * one W1 push batch writes, counted as WAL frames. Deterministic, unlike timings: with automatic
 * checkpoints off, W1's first 50 batches warm the database, a TRUNCATE checkpoint empties the WAL,
 * and the size of the WAL after the remaining 150 batches, in frames, divided by 150 is the figure.
 * Each build (this one, `dist/`, and any named with `--compare`) runs its `SyncGateway` service on a
 * fresh temp file under synchronous NORMAL. `--drop-index` drops an index of this build's schema
 * first, to price that index. It imports the built package: run `npm run build` first.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { makeWorkload } from "../../shared/bench/workload.mjs"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const WARM_BATCHES = 50
const workload = makeWorkload({})
const builds = [
  ["this build", new URL("../dist", import.meta.url).pathname],
  ...(args.compare ?? "").split(",").filter((entry) => entry !== "").map((entry) => entry.split(":"))
]
if (args["drop-index"] !== undefined) builds.splice(1, 0, [`this build without ${args["drop-index"]}`, builds[0][1], args["drop-index"]])

const framesPerBatch = async (dist, dropIndex) => {
  const pkg = await import(pathToFileURL(join(resolve(dist), "index.js")).href)
  const { Effect, Layer, ManagedRuntime } = await import("effect")
  const { SqlClient } = await import("@effect/sql")
  const dir = mkdtempSync(join(tmpdir(), "or3-wal-frames-"))
  const path = join(dir, "bench.sqlite")
  const runtime = ManagedRuntime.make(pkg.SyncGateway.Default.pipe(
    Layer.provideMerge(pkg.Migrations.layerSqlFile(path, { synchronous: "NORMAL", backgroundCheckpoint: false }))
  ))
  try {
    const [gateway, sql] = await runtime.runPromise(pkg.SyncGateway.pipe(Effect.zip(SqlClient.SqlClient)))
    const run = (statement) => runtime.runPromise(sql.unsafe(statement))
    if (dropIndex !== undefined) await run(`DROP INDEX ${dropIndex}`)
    await run("PRAGMA wal_autocheckpoint = 0")
    const session = { userId: "bench-user" }
    for (const batch of workload.pushBatches.slice(0, WARM_BATCHES)) await runtime.runPromise(gateway.push(batch, session))
    await run("PRAGMA wal_checkpoint(TRUNCATE)")
    const measured = workload.pushBatches.slice(WARM_BATCHES)
    for (const batch of measured) await runtime.runPromise(gateway.push(batch, session))
    const pageSize = Number((await run("PRAGMA page_size"))[0].page_size)
    // A WAL is a 32-byte header, then one 24-byte header and one page per frame.
    return (statSync(`${path}-wal`).size - 32) / (24 + pageSize) / measured.length
  } finally {
    await runtime.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`WAL frames per W1 push batch (100 ops), batches ${WARM_BATCHES + 1}-${workload.pushBatches.length}, synchronous NORMAL`)
for (const [name, dist, dropIndex] of builds) console.log(`${name}: ${(await framesPerBatch(dist, dropIndex)).toFixed(1)}`)
