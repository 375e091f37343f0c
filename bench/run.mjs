/**
 * `npm run bench`: workload W1 (../shared/bench/workload.mjs) against the hand-written
 * better-sqlite3 floor, this package's SyncGateway service and its OR3 Promise facade, each on a
 * fresh temp file under synchronous NORMAL and FULL. Reps are interleaved (order alternating), a
 * full GC runs before each, and the median of the measured reps is reported. Prints a table, then
 * one JSON line per contender, metric and mode:
 *   {"contender","metric","synchronous","value","ratio"}
 * ratio = contender/floor for rates and floor/contender for latencies, so higher is better.
 *
 *   node bench/run.mjs [--reps=5] [--warmup=1] [--sync=NORMAL,FULL] [--batches=200]
 *                      [--contenders=floor,service,facade]
 * It imports the built package (dist/): `npm run bench` builds first.
 */
import Database from "better-sqlite3"
import { Effect, Layer, ManagedRuntime } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { median, runPhases } from "../../shared/bench/harness.mjs"
import { openRawFloor } from "../../shared/bench/raw-floor.mjs"
import { makeWorkload } from "../../shared/bench/workload.mjs"
import { createSqliteProvider, Migrations, SESSION_CONTEXT_PREFIX, SyncGateway } from "../dist/index.js"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const reps = Number(args.reps ?? 5)
const warmup = Number(args.warmup ?? 1)
const modes = (args.sync ?? "NORMAL,FULL").split(",")
const contenders = (args.contenders ?? "floor,service,facade").split(",")
const workload = makeWorkload(args.batches ? { batches: Number(args.batches) } : {})

setFlagsFromString("--expose-gc")
const gc = globalThis.gc ?? runInNewContext("gc")

const USER = "bench-user"
const session = { userId: USER }

/** An h3 event as the OR3 host leaves it after resolving the session. */
const benchEvent = {
  context: {
    [`${SESSION_CONTEXT_PREFIX}bench`]: {
      authenticated: true,
      user: { id: USER },
      workspace: { id: workload.workspaceId },
      role: "owner"
    }
  }
}

/** Each opener returns `{ push, pull, close }` on a database file at `path`. */
const openers = {
  floor: async (path, synchronous) => {
    const floor = openRawFloor({ Database, path, synchronous })
    return { push: (b) => floor.push(b), pull: (r) => floor.pull(r), close: async () => floor.close() }
  },
  service: async (path, synchronous) => {
    const runtime = ManagedRuntime.make(
      SyncGateway.Default.pipe(Layer.provideMerge(Migrations.layerSqlFile(path, { synchronous })))
    )
    const gateway = await runtime.runPromise(SyncGateway)
    return {
      push: (batch) => runtime.runPromise(gateway.push(batch, session)),
      pull: (request) => runtime.runPromise(gateway.pull(request, session)),
      close: () => runtime.dispose()
    }
  },
  facade: async (path, synchronous) => {
    const provider = await createSqliteProvider({ path, synchronous })
    const adapter = provider.syncGatewayAdapter
    return {
      push: (batch) => adapter.push(benchEvent, batch),
      pull: (request) => adapter.pull(benchEvent, request),
      close: () => provider.dispose()
    }
  }
}

const metrics = [
  ["push_ops_per_s", "push ops/s", "rate"],
  ["replay_ops_per_s", "replay ops/s", "rate"],
  ["pull_changes_per_s", "pull changes/s", "rate"],
  ["single_op_push_p50_ms", "single-op p50 ms", "latency"],
  ["single_op_push_p99_ms", "single-op p99 ms", "latency"]
]

const lines = []
const table = []
for (const synchronous of modes) {
  const samples = Object.fromEntries(contenders.map((c) => [c, []]))
  for (let rep = -warmup; rep < reps; rep++) {
    const order = rep & 1 ? [...contenders].reverse() : contenders
    for (const name of order) {
      gc()
      const dir = mkdtempSync(join(tmpdir(), `or3-bench-${name}-`))
      const impl = await openers[name](join(dir, "bench.sqlite"), synchronous)
      try {
        const result = await runPhases(impl, workload)
        if (rep >= 0) samples[name].push(result)
      } finally {
        await impl.close()
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  const medians = Object.fromEntries(contenders.map((c) => [
    c,
    Object.fromEntries(metrics.map(([m]) => [m, median(samples[c].map((s) => s[m]))]))
  ]))
  for (const contender of contenders) {
    for (const [metric, , kind] of metrics) {
      const value = medians[contender][metric]
      const floor = medians.floor?.[metric]
      const ratio = floor === undefined ? null : kind === "rate" ? value / floor : floor / value
      lines.push({ contender, metric, synchronous, value: round(value), ratio: ratio === null ? null : round(ratio) })
      table.push([synchronous, contender, metric, value, ratio])
    }
  }
}

const fmt = (x) => (x === null ? "-" : x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(3))
console.log(`W1: ${workload.pushBatches.length} batches, reps ${reps} (+${warmup} warm-up), node ${process.version}`)
console.log("| sync | contender | metric | value | ratio to floor |")
console.log("|---|---|---|---|---|")
for (const [sync, contender, metric, value, ratio] of table) {
  console.log(`| ${sync} | ${contender} | ${metrics.find(([m]) => m === metric)[1]} | ${fmt(value)} | ${fmt(ratio)} |`)
}
for (const line of lines) console.log(JSON.stringify(line))

function round(x) {
  return x >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000
}

// Effect is imported so that a future contender can run programs without a runtime; keep the
// linter quiet about it.
void Effect
