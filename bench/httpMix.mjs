/**
 * The polling mix of bench/http.mjs: the reference host under the traffic of an OR3 server's day,
 * compressed in time.
 *
 * Model: `devices` devices spread over `users` users (device i belongs to user i % users), each
 * device its own bearer token for its user, each user syncing their own default workspace. This is
 * how OR3 is used: a person signs in on a few devices (laptop, phone, tabs) that share one
 * workspace, so an edit on one device reaches its siblings on their next poll, and nobody else's.
 * (All devices in one workspace would make every push visible to every poll; one device per user
 * would never see another device's change.)
 *
 * A device behaves as the OR3 gateway client does (app/core/sync: a poll every 2 s plus 0-500 ms of
 * jitter, pages of 100): a poll pulls from its cursor, takes `nextCursor`, and keeps pulling while
 * `hasMore`. When a poll brought changes, the client's subscription manager drains once more from
 * the new cursor and reports it with POST /api/sync/update-cursor (`catchUp`; off: pulls only).
 * Before a poll, with probability `pushChance`, the device pushes a chat edit of 1-3 `messages`
 * puts, each a new message or (half the time) a rewrite of one of its workspace's recent messages
 * (clock + 1, so the log also holds superseded entries). The pushing device's own next poll, and
 * its siblings', then return those changes; every other poll is empty at the head.
 *
 * By default (`pollMs` 0) time is compressed: `connections` workers take devices from a round-robin
 * queue and run one device's poll after another with no pause, so one pass over the queue stands
 * for one 2.25 s poll interval and the host runs flat out (`devicesAtInterval`: how many real
 * devices this rate of polls would serve). Latencies are then mostly queueing, alike on every
 * route. With `pollMs` > 0 every device polls on its own, `pollMs` plus 0-500 ms of jitter apart,
 * as real devices do: the load of `devices` devices, whose latencies are the routes' service times
 * (requests still share `connections` keep-alive sockets). Decisions are seeded per device; only
 * the interleaving varies.
 */
import http from "node:http"
import { makeMessageOps } from "./messageOps.mjs"

/** The OR3 client's jitter on its poll interval, its mean interval (2 s + 0-500 ms) and its page size. */
const JITTER_MS = 500
const POLL_INTERVAL_S = 2.25
const PULL_LIMIT = 100
/** Messages each workspace holds before the mix (one thread), and how many recent ones edits pick from. */
const HISTORY = 24
const RECENT = 8

/**
 * The host side (the child): `--users` users with their default workspaces and a token for each
 * of `--devices` devices. Returns the grants for bearerAuthenticator and the devices for `runMix`.
 */
export async function provisionMix(provider, args, randomToken) {
  const devices = Number(args.devices ?? 200)
  const users = Number(args.users ?? 50)
  const workspaces = []
  for (let u = 0; u < users; u++) {
    const identity = { provider: "bench", providerUserId: `mix-user-${u}` }
    const { userId } = await provider.authWorkspaceStore.getOrCreateUser({ ...identity })
    const { workspaceId } = await provider.authWorkspaceStore.getOrCreateDefaultWorkspace(userId)
    workspaces.push({ identity, workspaceId })
  }
  const mixDevices = Array.from({ length: devices }, (_, i) => ({
    token: randomToken(),
    deviceId: `mix-device-${i}`,
    ...workspaces[i % users]
  }))
  return {
    grants: mixDevices.map(({ token, identity }) => ({ token, identity })),
    devices: mixDevices.map(({ token, deviceId, workspaceId }) => ({ token, deviceId, workspaceId }))
  }
}

/** The mix's own command-line options (see bench/http.mjs), with their defaults. */
export const mixOptions = (args) => ({
  pollMs: Number(args["poll-ms"] ?? 0),
  pushChance: Number(args["push-chance"] ?? 0.1),
  catchUp: args["catch-up"] !== "false",
  seed: Number(args.seed ?? 1)
})

/** Latencies and failures of one route. */
const makeRoute = () => ({ latencies: [], errors: 0, non2xx: 0, bad: 0 })

/**
 * Runs the mix against `url` for `duration` s and returns, per route (pull, push, cursor), the
 * latencies in ms and the failures, plus counts of what the devices saw, the load generator's own
 * CPU time and the host's (`hostCpu()` gives the host's {cpuUs, requests} so far).
 */
export async function runMix({ url, devices, connections, duration, pollMs, pushChance, catchUp, seed, hostCpu }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const routes = { pull: makeRoute(), push: makeRoute(), cursor: makeRoute() }
  const seen = { polls: 0, emptyPolls: 0, changes: 0, pushedOps: 0 }

  /** One POST; resolves to the parsed body when 2xx and `ok(body)`, else to null (counted on the route). */
  const post = (route, path, token, payload, ok) => new Promise((resolve) => {
    const body = JSON.stringify(payload)
    const started = performance.now()
    const fail = (kind) => {
      routes[route][kind]++
      resolve(null)
    }
    const request = http.request(`${url}${path}`, {
      method: "POST",
      agent,
      timeout: 10_000,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "x-or3-cloud-intent": "mutation"
      }
    }, (response) => {
      const chunks = []
      response.on("data", (chunk) => chunks.push(chunk))
      response.on("error", () => fail("errors"))
      response.on("end", () => {
        routes[route].latencies.push(performance.now() - started)
        if (response.statusCode < 200 || response.statusCode >= 300) return fail("non2xx")
        let parsed
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"))
        } catch {
          return fail("bad")
        }
        if (!ok(parsed)) return fail("bad")
        resolve(parsed)
      })
    })
    request.on("timeout", () => request.destroy(new Error("timeout")))
    request.on("error", () => fail("errors"))
    request.end(body)
  })

  const pushOps = (device, ops) => {
    const scope = { workspaceId: device.workspaceId }
    return post("push", "/api/sync/push", device.token, { scope, ops }, (r) =>
      Array.isArray(r.results) && r.results.length === ops.length && r.results.every((x) => x.success === true))
  }
  const pull = (device) => {
    const cursor = device.cursor
    return post("pull", "/api/sync/pull", device.token, { scope: { workspaceId: device.workspaceId }, cursor, limit: PULL_LIMIT }, (r) =>
      Array.isArray(r.changes) && r.changes.length <= PULL_LIMIT && Number.isInteger(r.nextCursor) &&
      r.nextCursor >= cursor && typeof r.hasMore === "boolean" && r.requiresSnapshot === false &&
      r.changes.every((c) => c.serverVersion > cursor && c.serverVersion <= r.nextCursor))
  }

  // Each device generates its own ops; sibling devices share their workspace's recent messages.
  const workspaces = new Map()
  const state = devices.map((d, i) => {
    if (!workspaces.has(d.workspaceId)) workspaces.set(d.workspaceId, { recent: [], first: i })
    return { ...d, cursor: 0, gen: makeMessageOps({ seed: seed + i, devices: 1 }), ws: workspaces.get(d.workspaceId) }
  })
  const remember = (ws, op) => {
    ws.recent.push({ pk: op.pk, payload: op.payload, clock: op.payload.clock })
    if (ws.recent.length > RECENT) ws.recent.shift()
  }
  const newMessage = (device) => {
    const op = device.gen.op()
    op.stamp = { ...op.stamp, deviceId: device.deviceId }
    remember(device.ws, op)
    return op
  }
  // A rewrite takes the next clock when it is generated, so concurrent siblings never tie.
  const rewrite = (device) => {
    const fresh = device.gen.op()
    const target = device.ws.recent[device.gen.int(device.ws.recent.length)]
    const clock = ++target.clock
    target.payload = { ...target.payload, data: fresh.payload.data, updated_at: fresh.payload.updated_at, clock }
    return { ...fresh, pk: target.pk, payload: target.payload, stamp: { ...fresh.stamp, deviceId: device.deviceId, clock } }
  }

  // Not timed: each workspace gets its history from its first device; every device starts at the head.
  const heads = new Map()
  for (const ws of workspaces.values()) {
    const device = state[ws.first]
    const reply = await pushOps(device, Array.from({ length: HISTORY }, () => newMessage(device)))
    if (reply === null) throw new Error("mix: a history push failed")
    heads.set(device.workspaceId, reply.serverVersion)
  }
  for (const device of state) device.cursor = heads.get(device.workspaceId)
  for (const route of Object.values(routes)) route.latencies.length = 0

  /** Pulls from the device's cursor while `hasMore`; the number of changes received, or null on a failure. */
  const pullToHead = async (device) => {
    let received = 0
    for (let more = true; more;) {
      const reply = await pull(device)
      if (reply === null) return null
      received += reply.changes.length
      device.cursor = reply.nextCursor
      more = reply.hasMore
    }
    return received
  }

  /** One poll interval of one device: maybe a push, then the pull loop, then the catch-up. */
  const cycle = async (device) => {
    if (device.gen.int(1_000_000) < pushChance * 1_000_000) {
      const ops = Array.from({ length: 1 + device.gen.int(3) }, () =>
        device.gen.int(2) === 0 ? newMessage(device) : rewrite(device))
      if ((await pushOps(device, ops)) === null) return
      seen.pushedOps += ops.length
    }
    const received = await pullToHead(device)
    if (received === null) return
    seen.polls++
    seen.changes += received
    if (received === 0) seen.emptyPolls++
    else if (catchUp) {
      if ((await pullToHead(device)) === null) return
      const scope = { workspaceId: device.workspaceId }
      await post("cursor", "/api/sync/update-cursor", device.token, { scope, deviceId: device.deviceId, version: device.cursor }, (r) => r.ok === true)
    }
  }

  // The queue starts in a seeded order so that siblings are not polled back to back.
  const order = makeMessageOps({ seed: seed ^ 0x5eed })
  const queue = state.map((device) => ({ device, key: order.int(2 ** 31) })).sort((a, b) => a.key - b.key).map((x) => x.device)
  process.stderr.write(`mix phase: ${devices.length} devices of ${workspaces.size} users, ` +
    `${pollMs > 0 ? `each polling every ${pollMs} ms + jitter` : "flat out"}\n`)
  const host0 = await hostCpu()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + duration * 1000
  const worker = async () => {
    while (performance.now() < end && queue.length > 0) {
      const device = queue.shift()
      await cycle(device)
      queue.push(device)
    }
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, end - performance.now()))))
  const pacedDevice = async (device) => {
    await sleep(device.gen.int(pollMs + JITTER_MS))
    while (performance.now() < end) {
      await cycle(device)
      await sleep(pollMs + device.gen.int(JITTER_MS))
    }
  }
  await (pollMs > 0
    ? Promise.all(queue.map(pacedDevice))
    : Promise.all(Array.from({ length: Math.min(connections, devices.length) }, worker)))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const host1 = await hostCpu()
  agent.destroy()
  return {
    routes,
    seconds,
    seen,
    requests: Object.values(routes).reduce((n, route) => n + route.latencies.length, 0),
    clientCpuUs: cpu.user + cpu.system,
    hostCpuUs: host1.cpuUs - host0.cpuUs,
    hostRequests: host1.requests - host0.requests,
    devicesAtInterval: (seen.polls / seconds) * POLL_INTERVAL_S
  }
}

/** The value at quantile `p` of an ascending array (nearest rank). */
export const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]

const share = (part, whole) => part / Math.max(1, whole)

/**
 * The mix as rows of bench/http.mjs's table: one per route, then `mix` (every request, with the
 * host's CPU per request and the mix's own metrics in `extra`).
 */
export function mixRows(mix) {
  const row = (phase, latencies, failures, opsPerS = null) => {
    const sorted = [...latencies].sort((a, b) => a - b)
    return {
      phase,
      rps: sorted.length / mix.seconds,
      opsPerS,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      ...failures
    }
  }
  const { pull, push, cursor } = mix.routes
  const all = [pull, push, cursor]
  const sum = (key) => all.reduce((n, route) => n + route[key], 0)
  const total = row("mix", all.flatMap((route) => route.latencies), { errors: sum("errors"), non2xx: sum("non2xx"), bad: sum("bad") })
  total.cpuUs = mix.hostCpuUs / Math.max(1, mix.hostRequests)
  total.extra = {
    empty_poll_share: share(mix.seen.emptyPolls, mix.seen.polls),
    changes_per_poll: share(mix.seen.changes, mix.seen.polls),
    devices_at_poll_interval: mix.devicesAtInterval,
    host_cpu_share: mix.hostCpuUs / (mix.seconds * 1e6),
    client_cpu_share: mix.clientCpuUs / (mix.seconds * 1e6),
    client_cpu_us_per_request: share(mix.clientCpuUs, mix.requests)
  }
  return [
    row("mix_pull", pull.latencies, pull),
    row("mix_push", push.latencies, push, mix.seen.pushedOps / mix.seconds),
    row("mix_cursor", cursor.latencies, cursor),
    total
  ]
}

/** One line on what the mix was made of, what the devices saw and who was busy. */
export function describeMix(mix) {
  const { routes: { pull, push, cursor }, requests } = mix
  const pct = (part, whole) => `${Math.round(100 * share(part, whole))}%`
  const { polls, emptyPolls, changes } = mix.seen
  return `mix: ${pct(pull.latencies.length, requests)} pulls, ${pct(push.latencies.length, requests)} pushes, ` +
    `${pct(cursor.latencies.length, requests)} cursor updates; ${pct(emptyPolls, polls)} of ${polls} polls empty, ` +
    `${share(changes, polls - emptyPolls).toFixed(1)} changes per non-empty poll; ${Math.round(mix.devicesAtInterval)} ` +
    `devices at the client's ${POLL_INTERVAL_S} s interval; host main thread busy ${pct(mix.hostCpuUs, mix.seconds * 1e6)} ` +
    `of the time (${mix.hostRequests} requests seen), load generator ${pct(mix.clientCpuUs, mix.seconds * 1e6)} of a core ` +
    `(${Math.round(share(mix.clientCpuUs, requests))} us/request` +
    `${mix.clientCpuUs > 0.8 * mix.seconds * 1e6 ? ": near a whole core, the load generator may be the bottleneck" : ""})`
}
