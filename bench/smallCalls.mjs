/**
 * `node bench/smallCalls.mjs [--compare=<name>:<dist>,...] [--rounds=12] [--calls=1000]`: the
 * polling calls of one build against others, interleaved in one process, for differences of a
 * few microseconds that `npm run bench` (one contender after another) cannot separate from the
 * machine's drift.
 *
 * Each build (this one, `dist/`, and any named with `--compare`) gets the OR3 facade from
 * `createSqliteProvider` on its own temp file (synchronous NORMAL) with 2,000 message puts. Then,
 * for `--rounds` rounds, builds taking turns (order alternating): the p50 of `--calls` empty pulls
 * at the head, of as many pulls of 10 (limit 10 from 100 versions behind the head) and of a third
 * as many 1-op pushes. Prints the median of each build's per-round p50s, in microseconds.
 * It imports the built package: run `npm run build` first.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { makeMessageOps } from "./messageOps.mjs"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const rounds = Number(args.rounds ?? 12)
const calls = Number(args.calls ?? 1000)
const builds = [
  ["this build", new URL("../dist", import.meta.url).pathname],
  ...(args.compare ?? "").split(",").filter((entry) => entry !== "").map((entry) => entry.split(":"))
]
const scope = { workspaceId: "bench-ws" }

const p50 = async (n, call) => {
  const samples = new Array(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await call()
    samples[i] = performance.now() - t0
  }
  return samples.sort((a, b) => a - b)[n >> 1]
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]

const contenders = []
for (const [name, dist] of builds) {
  const pkg = await import(pathToFileURL(join(resolve(dist), "index.js")).href)
  const dir = mkdtempSync(join(tmpdir(), "or3-small-calls-"))
  const provider = await pkg.createSqliteProvider({ path: join(dir, "bench.sqlite"), synchronous: "NORMAL" })
  const session = { authenticated: true, user: { id: "bench-user" }, workspace: { id: scope.workspaceId }, role: "owner" }
  const event = { context: { [`${pkg.SESSION_CONTEXT_PREFIX}bench`]: session } }
  const adapter = provider.syncGatewayAdapter
  const messages = makeMessageOps({ seed: 0x5ca11 })
  let head = 0
  for (let i = 0; i < 20; i++) head = (await adapter.push(event, messages.batch(scope, 100))).serverVersion
  contenders.push({
    name,
    dir,
    provider,
    samples: { "empty pull": [], "pull of 10": [], "1-op push": [] },
    round: async (samples) => {
      samples["empty pull"].push(await p50(calls, () => adapter.pull(event, { scope, cursor: head, limit: 100 })))
      samples["pull of 10"].push(await p50(calls, () => adapter.pull(event, { scope, cursor: head - 100, limit: 10 })))
      samples["1-op push"].push(await p50(Math.ceil(calls / 3), async () => {
        head = (await adapter.push(event, messages.batch(scope, 1))).serverVersion
      }))
    }
  })
}

for (let r = 0; r < rounds; r++) {
  for (const contender of r % 2 === 0 ? contenders : [...contenders].reverse()) await contender.round(contender.samples)
}
console.log(`p50 in us, median of ${rounds} interleaved rounds (${calls} pulls, ${Math.ceil(calls / 3)} pushes each), synchronous NORMAL`)
console.log(`| build | ${Object.keys(contenders[0].samples).join(" | ")} |`)
console.log(`|---|${Object.keys(contenders[0].samples).map(() => "---").join("|")}|`)
for (const { name, samples } of contenders) {
  console.log(`| ${name} | ${Object.values(samples).map((s) => (median(s) * 1000).toFixed(1)).join(" | ")} |`)
}
for (const { provider, dir } of contenders) {
  await provider.dispose()
  rmSync(dir, { recursive: true, force: true })
}
