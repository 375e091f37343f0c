/**
 * Cost of validating a push, per op: `prepareOps` over every W1 push batch (../shared/bench/
 * workload.mjs), and the bare Schema decode of `PendingOp` it starts with. Before each rep a full
 * GC runs, then one untimed pass: a forced GC shrinks V8's young generation, and the first pass
 * after it pays for regrowing it (up to 2x on this allocation-heavy code). The median of the
 * measured reps is printed in microseconds per op, with the bytes each op allocates (one more
 * pass under V8's sampling heap profiler, every 1 KiB, counting objects the GC has since freed:
 * the garbage is what later phases pay for).
 *
 *   node bench/prepareOps.mjs [--reps=9] [--warmup=3]
 * It imports the built package (dist/): run `npm run build` first.
 */
import { ParseResult } from "effect"
import { Session } from "node:inspector/promises"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { median } from "../../shared/bench/harness.mjs"
import { makeWorkload } from "../../shared/bench/workload.mjs"
import { PendingOp } from "../dist/schema/wire.js"
import { prepareOps } from "../dist/services/sync/ops.js"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const reps = Number(args.reps ?? 9)
const warmup = Number(args.warmup ?? 3)

setFlagsFromString("--expose-gc")
const gc = globalThis.gc ?? runInNewContext("gc")

const workload = makeWorkload()
const batches = workload.pushBatches
const opCount = batches.reduce((n, batch) => n + batch.ops.length, 0)
const session = { userId: "bench-user" }
const decodeOp = ParseResult.decodeUnknownEither(PendingOp, { errors: "first", onExcessProperty: "ignore" })

const cases = {
  prepareOps: () => {
    for (const batch of batches) {
      const units = prepareOps(batch.ops, workload.workspaceId, session)
      if (units[0]._tag !== "Valid") throw new Error(`W1 op rejected: ${JSON.stringify(units[0])}`)
    }
  },
  "decode PendingOp": () => {
    for (const batch of batches) {
      for (const op of batch.ops) {
        if (decodeOp(op)._tag !== "Right") throw new Error("W1 op failed to decode")
      }
    }
  }
}

/** Microseconds per op of each case; cases interleave within a rep so drift hits them alike. */
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
for (let rep = -warmup; rep < reps; rep++) {
  for (const [name, run] of Object.entries(cases)) {
    gc()
    run()
    const start = performance.now()
    run()
    const micros = ((performance.now() - start) * 1000) / opCount
    if (rep >= 0) samples[name].push(micros)
  }
}

/** Bytes allocated per op by one pass of `run`, from a heap-sampling profile. */
const bytesPerOp = async (inspector, run) => {
  await inspector.post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true
  })
  run()
  const { profile } = await inspector.post("HeapProfiler.stopSampling")
  let total = 0
  const walk = (node) => {
    total += node.selfSize
    node.children.forEach(walk)
  }
  walk(profile.head)
  return total / opCount
}

const inspector = new Session()
inspector.connect()
await inspector.post("HeapProfiler.enable")
const bytes = {}
for (const [name, run] of Object.entries(cases)) bytes[name] = await bytesPerOp(inspector, run)
inspector.disconnect()

console.log(`W1: ${batches.length} batches, ${opCount} ops, reps ${reps} (+${warmup} warm-up), node ${process.version}`)
for (const [name, values] of Object.entries(samples)) {
  console.log(`${name.padEnd(18)} ${median(values).toFixed(2)} us/op  (min ${Math.min(...values).toFixed(2)})  ${bytes[name].toFixed(0)} B/op`)
}
