/**
 * `npm run bench:http`: the reference host (createReferenceHost over createSqliteProvider({ path })
 * on a fresh temp file, bearer-token sign-in) under autocannon, and beside it the same pushes
 * in-process, so the cost of HTTP is visible.
 *
 * The host runs in a CHILD process (this file with --serve), bound to 127.0.0.1 on an ephemeral
 * port, so the load generator and the server each get a core, as with a real client. Phases
 * (`--phases`, default push,pull,mix; floor and facade run with push):
 *   prefill  `--prefill` (20000) changes pushed over HTTP in 100-op batches (not timed)
 *   push     autocannon, `--connections` (50) connections for `--duration` (20) s: POST
 *            /api/sync/push of 10 NEW message puts, a fresh body (fresh opIds) per request
 *   pull     same load: POST /api/sync/pull {limit: 100} from a seeded random cursor in the log
 *   mix      the polling mix of bench/httpMix.mjs for `--duration` s: `--devices` (200) devices
 *            of `--users` (50) users, each a bearer token and a cursor in its user's workspace,
 *            polling as the OR3 client does (pull while hasMore; after changes a drain pull and
 *            update-cursor, unless `--catch-up=false`), pushing 1-3 message puts before a poll
 *            with `--push-chance` (0.1). Flat out over `--connections` workers by default, or each
 *            device every `--poll-ms` + 0-500 ms, as real devices (`--poll-ms=2000`)
 *   floor    in-process, after the host stopped: ../../shared/bench/raw-floor.mjs on better-sqlite3
 *            pushing the same 10-op batches back to back for min(duration, 10) s
 *   facade   in-process: this package's syncGatewayAdapter.push (no HTTP), same batches and time
 * Both in-process contenders and the host use `--sync` (default NORMAL, the setting of the issue's
 * floor figures; the provider's own default is FULL, which fsyncs every commit: try --sync=FULL).
 * Every push response must be 2xx with every op successful, every pull response 2xx with a page
 * (in the mix: a well-formed page from the device's cursor); anything else is counted as an error.
 * Beside the rates, the CPU time of the serving thread per request (the host's main thread, read
 * from /proc; the WAL checkpoint worker is not counted): unlike requests/s it barely moves when other processes take the cores, so push minus
 * facade_push is the host's own cost per request (HTTP parsing, session, checks, JSON). One thread
 * serves every route, so the mix has one CPU figure for all its routes, and the load generator's.
 * Prints a Markdown table, then one JSON line per metric:
 *   {"phase":"push"|"pull"|"mix"|"mix_pull"|"mix_push"|"mix_cursor"|"floor_push"|"facade_push","metric","value"}
 * metrics: requests_per_s, ops_per_s (push), p50_ms, p99_ms, cpu_us_per_request, errors, non_2xx,
 * bad_bodies; for mix also empty_poll_share, changes_per_poll, devices_at_poll_interval,
 * host_cpu_share and client_cpu_share (of one core), client_cpu_us_per_request.
 * Target: push >= 2,000 requests/s at p99 < 50 ms, 0 errors.
 *
 *   node bench/http.mjs [--duration=20] [--connections=50] [--prefill=20000] [--sync=NORMAL]
 *                       [--phases=push,pull,mix] [--devices=200] [--users=50] [--push-chance=0.1]
 *                       [--catch-up=true] [--poll-ms=0] [--seed=1] [--host-prof=DIR]
 * (`--host-prof`: the host's V8 CPU profile, written to DIR when it stops.)
 * It imports the built package (dist/): `npm run bench:http` builds first.
 */
import autocannon from "autocannon"
import Database from "better-sqlite3"
import { fork } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { openRawFloor } from "../../shared/bench/raw-floor.mjs"
import {
  bearerAuthenticator,
  createReferenceHost,
  createSqliteProvider,
  listenReferenceHost,
  LOOPBACK,
  randomToken,
  SESSION_CONTEXT_PREFIX
} from "../dist/index.js"
import { describeMix, mixOptions, mixRows, provisionMix, quantile, runMix } from "./httpMix.mjs"
import { makeMessageOps } from "./messageOps.mjs"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const [key, value] = arg.replace(/^--/, "").split("=")
  return [key, value ?? "true"]
}))
const synchronous = args.sync ?? "NORMAL"
const phases = new Set((args.phases ?? "push,pull,mix").split(","))
const unknownPhase = [...phases].find((phase) => !["push", "pull", "mix"].includes(phase))
if (unknownPhase !== undefined) throw new Error(`--phases: unknown phase "${unknownPhase}" (push, pull, mix)`)
const OPS_PER_PUSH = 10
const PULL_LIMIT = 100

if (args.serve !== undefined) await serve()
else await main()

/**
 * CPU microseconds of this process's main thread (Linux: /proc/self/task/<pid>/stat, in clock
 * ticks of 10 ms, fine over thousands of requests); elsewhere the whole process's.
 */
function mainThreadCpuUs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    const { user, system } = process.cpuUsage()
    return user + system
  }
}

/** The child: a reference host on 127.0.0.1:0; reports {url, token, workspaceId, mixDevices} over IPC, stops on "stop". */
async function serve() {
  const dir = mkdtempSync(join(tmpdir(), "or3-bench-http-"))
  const provider = await createSqliteProvider({ path: join(dir, "http.sqlite"), synchronous })
  const token = randomToken()
  const identity = { provider: "bench", providerUserId: "bench" }
  const mix = phases.has("mix") ? await provisionMix(provider, args, randomToken) : { grants: [], devices: [] }
  const logged = []
  const app = createReferenceHost({
    provider,
    authenticate: bearerAuthenticator([{ token, identity }, ...mix.grants]),
    logError: (message) => logged.push(message)
  })
  const host = await listenReferenceHost(app, { port: 0, hostname: LOOPBACK })
  let requests = 0
  host.server.on("request", () => requests++)
  const { userId } = await provider.authWorkspaceStore.getOrCreateUser({ ...identity })
  const { workspaceId } = await provider.authWorkspaceStore.getOrCreateDefaultWorkspace(userId)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    host.server.closeAllConnections?.()
    await host.close().catch(() => {})
    await provider.dispose()
    rmSync(dir, { recursive: true, force: true })
    process.send?.({ type: "stopped", logged: logged.length, firstLogged: logged[0] ?? null })
    process.disconnect?.()
  }
  process.on("message", (message) => {
    if (message?.type === "stop") void stop()
    if (message?.type === "cpu") process.send({ type: "cpu", cpuUs: mainThreadCpuUs(), requests })
  })
  process.on("disconnect", () => void stop()) // the parent went away
  process.send({ type: "ready", url: host.url, token, workspaceId, mixDevices: mix.devices })
}

async function main() {
  const duration = Number(args.duration ?? 20)
  const connections = Number(args.connections ?? 50)
  const prefill = Number(args.prefill ?? 20000)
  const inProcessSeconds = Math.min(duration, 10)
  // Every phase is bounded; this bounds the whole run in case something hangs.
  const deadline = setTimeout(() => {
    console.error("bench/http: over its time budget, giving up")
    child?.kill()
    process.exit(2)
  }, (3 * duration + 2 * inProcessSeconds + 180) * 1000)
  deadline.unref()

  const child = fork(fileURLToPath(import.meta.url), ["--serve", ...process.argv.slice(2)], {
    stdio: ["ignore", 2, 2, "ipc"],
    execArgv: args["host-prof"] === undefined ? process.execArgv : [...process.execArgv, "--cpu-prof", `--cpu-prof-dir=${args["host-prof"]}`]
  })
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("host did not start within 30 s")), 30_000)
    child.once("message", (m) => {
      clearTimeout(timer)
      resolve(m)
    })
    child.once("exit", (code) => reject(new Error(`host exited with ${code}`)))
  })
  const { url, token, workspaceId } = ready
  /** The host's main-thread CPU time and request count so far. */
  const hostCpu = () =>
    new Promise((resolve) => {
      const onMessage = (m) => {
        if (m?.type !== "cpu") return
        child.off("message", onMessage)
        resolve(m)
      }
      child.on("message", onMessage)
      child.send({ type: "cpu" })
    })
  /** CPU microseconds per request between two `hostCpu()` readings. */
  const cpuPerRequest = (before, after) => (after.cpuUs - before.cpuUs) / Math.max(1, after.requests - before.requests)
  const scope = { workspaceId }
  const gen = makeMessageOps({ seed: 0x477 })
  const headers = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    "x-or3-cloud-intent": "mutation"
  }
  const post = async (path, body) => {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000)
    })
    const json = await response.json()
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`)
    return json
  }

  const rows = []
  try {
    // Prefill (bounded by count) for the push and pull phases; the mix brings its own workspaces.
    const prefillBatches = phases.has("push") || phases.has("pull") ? Math.ceil(prefill / 100) : 0
    let head = 0
    for (let n = 0; n < prefillBatches; n++) {
      head = (await post("/api/sync/push", gen.batch(scope, 100))).serverVersion
    }
    if (prefillBatches > 0) process.stderr.write(`prefilled ${head} changes; ${duration} s per phase x ${connections} connections\n`)

    if (phases.has("push")) {
      const pushBadBodies = { n: 0 }
      const beforePush = await hostCpu()
      const pushResult = await load("push", {
        path: "/api/sync/push",
        body: () => JSON.stringify(gen.batch(scope, OPS_PER_PUSH)),
        ok: (body) => body.startsWith('{"results":') && !body.includes('"success":false'),
        bad: pushBadBodies
      })
      const pushCpu = cpuPerRequest(beforePush, await hostCpu())
      head = (await post("/api/sync/push", gen.batch(scope, OPS_PER_PUSH))).serverVersion
      const expectedHead = prefillBatches * 100 + (pushResult.requests.total - pushResult.non2xx) * OPS_PER_PUSH + OPS_PER_PUSH
      process.stderr.write(`head after push phase ${head} (expected ${expectedHead} + up to ${connections * OPS_PER_PUSH} in flight at the stop)\n`)
      rows.push({ ...summary("push", pushResult, pushBadBodies.n, OPS_PER_PUSH), cpuUs: pushCpu })
      // Requests still in flight when autocannon stops are applied but not counted: at most one per connection.
      rows.at(-1).headOk = head >= expectedHead && head <= expectedHead + connections * OPS_PER_PUSH
    }

    if (phases.has("pull")) {
      const pullBadBodies = { n: 0 }
      const cursors = makeMessageOps({ seed: 0xc0 })
      const beforePull = await hostCpu()
      const pullResult = await load("pull", {
        path: "/api/sync/pull",
        body: () => JSON.stringify({ scope, cursor: cursors.int(head - PULL_LIMIT), limit: PULL_LIMIT }),
        ok: (body) => body.startsWith('{"changes":[{') && body.includes('"hasMore":'),
        bad: pullBadBodies
      })
      const pullCpu = cpuPerRequest(beforePull, await hostCpu())
      rows.push({ ...summary("pull", pullResult, pullBadBodies.n, null), cpuUs: pullCpu })
    }

    if (phases.has("mix")) {
      const mix = await runMix({ ...mixOptions(args), url, devices: ready.mixDevices, connections, duration, hostCpu })
      rows.push(...mixRows(mix))
      rows.mixNote = describeMix(mix)
    }
  } finally {
    const stopped = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.kill()
        resolve({ logged: "unknown (host killed)" })
      }, 15_000)
      child.once("message", (m) => {
        clearTimeout(timer)
        resolve(m)
      })
      child.send({ type: "stop" })
    })
    if (stopped.logged !== 0) console.error(`host logged ${stopped.logged} unexpected failures; first: ${stopped.firstLogged}`)
    rows.hostLogged = stopped.logged
  }

  // In-process contenders, with the host stopped, the same 10-op batches.
  const inProcess = async (phase, open) => {
    const dir = mkdtempSync(join(tmpdir(), `or3-bench-http-${phase}-`))
    const impl = await open(join(dir, "bench.sqlite"))
    const batchGen = makeMessageOps({ seed: 0x477 })
    const batchScope = { workspaceId: impl.workspaceId }
    const lat = []
    try {
      const end = performance.now() + inProcessSeconds * 1000
      const t0 = performance.now()
      const cpu0 = mainThreadCpuUs()
      while (performance.now() < end) {
        const batch = batchGen.batch(batchScope, OPS_PER_PUSH)
        const s = performance.now()
        const r = await impl.push(batch)
        lat.push(performance.now() - s)
        if (r.results.some((x) => x.success !== true)) throw new Error(`${phase}: an op failed`)
      }
      const seconds = (performance.now() - t0) / 1000
      const cpuUs = (mainThreadCpuUs() - cpu0) / lat.length
      lat.sort((a, b) => a - b)
      return { phase, rps: lat.length / seconds, opsPerS: (lat.length * OPS_PER_PUSH) / seconds, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), cpuUs, errors: 0, non2xx: 0, bad: 0 }
    } finally {
      await impl.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  if (phases.has("push")) {
    rows.push(await inProcess("floor_push", async (path) => {
      const floor = openRawFloor({ Database, path, synchronous })
      return { workspaceId: "ws-floor", push: (b) => floor.push(b), close: async () => floor.close() }
    }))
    rows.push(await inProcess("facade_push", async (path) => {
      const provider = await createSqliteProvider({ path, synchronous })
      const event = {
        context: {
          [`${SESSION_CONTEXT_PREFIX}bench`]: {
            authenticated: true,
            user: { id: "bench-user" },
            workspace: { id: "ws-facade" },
            role: "owner"
          }
        }
      }
      return {
        workspaceId: "ws-facade",
        push: (b) => provider.syncGatewayAdapter.push(event, b),
        close: () => provider.dispose()
      }
    }))
  }

  const fmt = (x) => (x === null || x === undefined ? "-" : x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(2))
  const floorRps = rows.find((r) => r.phase === "floor_push")?.rps
  console.log(`http: ${connections} connections, ${duration} s per phase, ${OPS_PER_PUSH}-op pushes, ` +
    `${PULL_LIMIT}-change pulls, synchronous ${synchronous}, node ${process.version}; host logged ${rows.hostLogged} failures`)
  console.log("| phase | requests/s | ops/s | p50 ms | p99 ms | CPU us/request | errors | non-2xx | bad bodies | vs floor |")
  console.log("|---|---|---|---|---|---|---|---|---|---|")
  for (const r of rows) {
    const vs = ["push", "floor_push", "facade_push"].includes(r.phase) ? `${(r.rps / floorRps).toFixed(2)}x` : "-"
    console.log(`| ${r.phase} | ${fmt(r.rps)} | ${fmt(r.opsPerS)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpuUs)} | ${r.errors} | ${r.non2xx} | ${r.bad} | ${vs} |`)
  }
  const push = rows.find((r) => r.phase === "push")
  if (push !== undefined) {
    const facadeCpu = rows.find((r) => r.phase === "facade_push").cpuUs
    console.log(`host overhead per push (CPU, push - facade_push): ${fmt(push.cpuUs - facadeCpu)} us ` +
      `(${Math.round((100 * (push.cpuUs - facadeCpu)) / push.cpuUs)}% of the host's CPU per push)`)
  }
  if (rows.mixNote !== undefined) console.log(rows.mixNote)
  const round = (x) => (x >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000)
  for (const r of rows) {
    const metrics = { requests_per_s: r.rps, ops_per_s: r.opsPerS, p50_ms: r.p50, p99_ms: r.p99, cpu_us_per_request: r.cpuUs, errors: r.errors, non_2xx: r.non2xx, bad_bodies: r.bad, ...r.extra }
    for (const [metric, value] of Object.entries(metrics)) {
      if (value !== null && value !== undefined) console.log(JSON.stringify({ phase: r.phase, metric, value: round(value) }))
    }
  }
  if (push === undefined) return
  const met = push.rps >= 2000 && push.p99 < 50 && rows.every((r) => r.errors + r.non2xx + r.bad === 0) && rows.hostLogged === 0 && push.headOk
  console.log(`target (push >= 2,000 req/s at p99 < 50 ms, 0 errors, head as expected): ${met ? "met" : "NOT met"}`)

  /** One autocannon run; `body()` makes a new request body each time. */
  function load(name, { path, body, ok, bad }) {
    return new Promise((resolve, reject) => {
      const instance = autocannon({
        url,
        connections,
        duration,
        timeout: 10,
        requests: [{
          method: "POST",
          path,
          headers,
          setupRequest: (request) => ({ ...request, body: body() }),
          onResponse: (status, responseBody) => {
            if (status >= 200 && status < 300 && !ok(responseBody)) bad.n++
          }
        }]
      }, (error, result) => (error ? reject(error) : resolve(result)))
      instance.on("error", reject)
    }).then((result) => {
      process.stderr.write(`${name}: ${result.requests.total} requests in ${result.duration} s\n`)
      return result
    })
  }

  function summary(phase, result, bad, opsPerRequest) {
    const rps = result.requests.total / result.duration
    return {
      phase,
      rps,
      opsPerS: opsPerRequest === null ? null : rps * opsPerRequest,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      bad
    }
  }
}
