/**
 * Deterministic generator of NEW `messages` puts for bench/scale.mjs and bench/http.mjs: the op and
 * payload shape of ../../shared/bench/workload.mjs (v4-shaped UUID ids and opIds from a seeded
 * sfc32, an hlc-shaped order_key, ~400-byte payloads), but produced lazily, one op at a time, so a
 * million ops never sit in memory and every call gives fresh opIds. Not a workload of its own:
 * only new rows (clock 1), no updates, stale puts or deletes.
 *
 *   const gen = makeMessageOps({ seed })
 *   gen.batch({ workspaceId }, 100)  // { scope, ops: [100 new message puts] }
 */
export function makeMessageOps({ seed = 0x5ca1e, devices = 10, startMs = 1735689600000 } = {}) {
  let s = seed >>> 0
  const sm = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = sm(), b = sm(), c = sm(), d = sm()
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t >>> 0
  }
  const int = (n) => Math.floor((next() / 4294967296) * n)
  const uuid = () => {
    const w = [next(), next(), next(), next()]
    w[1] = ((w[1] & 0xffff0fff) | 0x00004000) >>> 0
    w[2] = ((w[2] & 0x3fffffff) | 0x80000000) >>> 0
    const h = w.map((x) => x.toString(16).padStart(8, "0")).join("")
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
  }
  const WORDS = ("the sync gateway stores every change in a log and applies last writer wins to the " +
    "materialized rows so that each device converges on the same state").split(" ")
  const DEVICES = Array.from({ length: devices }, (_, i) => `device-${String(i).padStart(2, "0")}`)
  let nowMs = startMs
  let counter = 0
  let thread = { id: uuid(), count: 0 }

  const op = () => {
    nowMs += 1
    const deviceId = DEVICES[int(DEVICES.length)]
    const hlc = `${nowMs}-${String(counter++ % 10000).padStart(4, "0")}-${deviceId}`
    if (thread.count >= 24) thread = { id: uuid(), count: 0 }
    const pk = uuid()
    const index = thread.count++
    const nowSec = Math.floor(nowMs / 1000)
    let content = ""
    const target = 120 + int(41)
    while (content.length < target) content += (content ? " " : "") + WORDS[int(WORDS.length)]
    return {
      id: uuid(),
      tableName: "messages",
      operation: "put",
      pk,
      payload: {
        id: pk,
        thread_id: thread.id,
        role: index % 2 === 0 ? "user" : "assistant",
        index,
        order_key: hlc,
        data: { content: content.slice(0, target) },
        deleted: false,
        created_at: nowSec,
        updated_at: nowSec,
        clock: 1
      },
      stamp: { deviceId, opId: uuid(), hlc, clock: 1 },
      createdAt: nowMs,
      attempts: 0,
      status: "pending"
    }
  }
  return { op, int, batch: (scope, n) => ({ scope, ops: Array.from({ length: n }, op) }) }
}
