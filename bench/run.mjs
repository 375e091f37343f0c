/**
 * `npm run bench`: the phases of bench/phases.mjs (workload W1 of ../shared/bench, then polling)
 * against the hand-written better-sqlite3 floor, this package's SyncGateway service and its OR3
 * Promise facade, each on a fresh temp file under synchronous NORMAL and FULL. Reps are
 * interleaved (order alternating), a full GC runs before each, and the median of the measured reps
 * is reported. Prints a table, then one JSON line per contender, metric and mode:
 *   {"contender","metric","synchronous","value","ratio"}
 * ratio = contender/floor for rates and floor/contender for latencies, so higher is better.
 *
 *   node bench/run.mjs [--reps=5] [--warmup=1] [--sync=NORMAL,FULL] [--batches=200] [--polls=2000]
 *                      [--contenders=floor,service,facade] [--compare=<name>:<dist/>,...]
 * `--compare=before:/work/old/dist` adds `service@before` and `facade@before`, the same contenders
 * from another build of the package (e.g. a worktree of an older commit), so before and after
 * share one run; several builds may be named, separated by commas.
 * It imports the built package (dist/): `npm run bench` builds first.
 */
import Database from "better-sqlite3"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { median } from "../../shared/bench/harness.mjs"
import { openRawFloor } from "../../shared/bench/raw-floor.mjs"
import { makeWorkload } from "../../shared/bench/workload.mjs"
import { metrics, runPhases } from "./phases.mjs"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const reps = Number(args.reps ?? 5)
const warmup = Number(args.warmup ?? 1)
const polls = Number(args.polls ?? 2000)
const modes = (args.sync ?? "NORMAL,FULL").split(",")
const workload = makeWorkload(args.batches ? { batches: Number(args.batches) } : {})

setFlagsFromString("--expose-gc")
const gc = globalThis.gc ?? runInNewContext("gc")

const USER = "bench-user"
const session = { userId: USER }

/** An h3 event as the OR3 host leaves it after resolving the session. */
const benchEvent = (prefix) => ({
  context: {
    [`${prefix}bench`]: { authenticated: true, user: { id: USER }, workspace: { id: workload.workspaceId }, role: "owner" }
  }
})

/** The service and facade contenders of one build of the package (`dist` is its directory). */
const packageOpeners = async (dist, suffix) => {
  const pkg = await import(pathToFileURL(join(dist, "index.js")).href)
  const { Layer, ManagedRuntime } = await import("effect")
  const event = benchEvent(pkg.SESSION_CONTEXT_PREFIX)
  return {
    [`service${suffix}`]: async (path, synchronous) => {
      const runtime = ManagedRuntime.make(
        pkg.SyncGateway.Default.pipe(Layer.provideMerge(pkg.Migrations.layerSqlFile(path, { synchronous })))
      )
      const gateway = await runtime.runPromise(pkg.SyncGateway)
      return {
        push: (batch) => runtime.runPromise(gateway.push(batch, session)),
        pull: (request) => runtime.runPromise(gateway.pull(request, session)),
        close: () => runtime.dispose()
      }
    },
    [`facade${suffix}`]: async (path, synchronous) => {
      const provider = await pkg.createSqliteProvider({ path, synchronous })
      const adapter = provider.syncGatewayAdapter
      return {
        push: (batch) => adapter.push(event, batch),
        pull: (request) => adapter.pull(event, request),
        close: () => provider.dispose()
      }
    }
  }
}

/** Each opener returns `{ push, pull, close }` on a database file at `path`. */
const openers = {
  floor: async (path, synchronous) => {
    const floor = openRawFloor({ Database, path, synchronous })
    return { push: (b) => floor.push(b), pull: (r) => floor.pull(r), close: async () => floor.close() }
  },
  ...(await packageOpeners(new URL("../dist", import.meta.url).pathname, ""))
}
const compared = (args.compare ?? "").split(",").filter((entry) => entry !== "").map((entry) => entry.split(":"))
for (const [name, dist] of compared) Object.assign(openers, await packageOpeners(resolve(dist), `@${name}`))
const contenders = (args.contenders ?? ["floor", "service", "facade", ...compared.flatMap(([name]) => [`service@${name}`, `facade@${name}`])].join(",")).split(",")

const lines = []
const table = []
for (const synchronous of modes) {
  const samples = Object.fromEntries(contenders.map((c) => [c, []]))
  for (let rep = -warmup; rep < reps; rep++) {
    const order = rep & 1 ? [...contenders].reverse() : contenders
    for (const name of order) {
      gc()
      const dir = mkdtempSync(join(tmpdir(), `or3-bench-${name.replace("@", "-")}-`))
      const impl = await openers[name](join(dir, "bench.sqlite"), synchronous)
      try {
        const result = await runPhases(impl, workload, { polls })
        if (rep >= 0) samples[name].push(result)
      } finally {
        await impl.close()
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  for (const contender of contenders) {
    for (const [metric, , kind] of metrics) {
      const value = median(samples[contender].map((s) => s[metric]))
      const floor = median(samples.floor?.map((s) => s[metric]) ?? [NaN])
      const ratio = kind === "count" || samples.floor === undefined ? null : kind === "rate" ? value / floor : floor / value
      lines.push({ contender, metric, synchronous, value: round(value), ratio: ratio === null ? null : round(ratio) })
      table.push([synchronous, contender, metric, value, ratio])
    }
  }
}

const fmt = (x) => (x === null ? "-" : x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(3))
console.log(`W1: ${workload.pushBatches.length} batches, ${polls} polls, reps ${reps} (+${warmup} warm-up), node ${process.version}`)
console.log("| sync | contender | metric | value | ratio to floor |")
console.log("|---|---|---|---|---|")
for (const [sync, contender, metric, value, ratio] of table) {
  console.log(`| ${sync} | ${contender} | ${metrics.find(([m]) => m === metric)[1]} | ${fmt(value)} | ${fmt(ratio)} |`)
}
for (const line of lines) console.log(JSON.stringify(line))

function round(x) {
  return x >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000
}
