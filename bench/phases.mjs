/**
 * The phases `npm run bench` times on each contender (`{ push, pull }`, sync or async: every call is
 * awaited, so all pay the same tick):
 *
 * W1 (../shared/bench/workload.mjs, in its intended order): its push batches, its replays, its
 * 1,000 single-op pushes (p50/p99 each), then a pull of the whole workspace from cursor 0 in pages
 * of 1,000. Pull is measured in versions covered per second (how far `nextCursor` moves), not in
 * changes returned: this package serves each key's current winner only (docs/sync.md, "Serving
 * rule"), ~70% of W1's entries, while the floor serves every entry, so changes/s would reward
 * serving more. The number of changes each served is reported beside it.
 *
 * Polling (what an OR3 server does all day: a device pulls every ~2 s, mostly empty; an edit
 * pushes 1-3 ops), each call timed alone, `polls` times (p50, p99):
 * - an empty pull at the head;
 * - a pull of 10 changes (limit 10 from 100 versions behind the head: a full page for everyone);
 * - a push of 1 new message, and of 3.
 *
 * The shared harness (../shared/bench/harness.mjs) counts pulled changes and requires them to
 * equal the head, which a winners-only pull cannot meet; these phases are this package's own.
 */
import { makeMessageOps } from "./messageOps.mjs"

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]

/** `call` timed `n` times, one call at a time: p50 and p99 in ms. */
const latencies = async (n, call) => {
  const samples = new Array(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await call(i)
    samples[i] = performance.now() - t0
  }
  samples.sort((a, b) => a - b)
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) }
}

const count = (batches) => batches.reduce((n, b) => n + b.ops.length, 0)

/**
 * Runs W1 then the polling phase on `impl` and returns the metrics (see `metrics` below).
 * @param {{ push(batch): any, pull(request): any }} impl
 */
export async function runPhases(impl, workload, { polls = 2000 } = {}) {
  const scope = { workspaceId: workload.workspaceId }
  const out = {}

  let t = performance.now()
  let head = 0
  for (const batch of workload.pushBatches) head = (await impl.push(batch)).serverVersion
  out.push_ops_per_s = count(workload.pushBatches) / ((performance.now() - t) / 1000)

  t = performance.now()
  for (const batch of workload.replayBatches) {
    if ((await impl.push(batch)).serverVersion !== head) throw new Error("a replay moved the head")
  }
  out.replay_ops_per_s = count(workload.replayBatches) / ((performance.now() - t) / 1000)

  const single = await latencies(workload.singleOps.length, async (i) => {
    const result = await impl.push(workload.singleOps[i])
    if (result.results[0]?.success !== true) throw new Error(`single op ${i} failed: ${JSON.stringify(result.results[0])}`)
    head = result.serverVersion
  })
  out.single_op_p50_ms = single.p50
  out.single_op_p99_ms = single.p99

  t = performance.now()
  let cursor = 0
  let served = 0
  for (let hasMore = true; hasMore;) {
    const page = await impl.pull({ scope, cursor, limit: 1000 })
    served += page.changes.length
    cursor = page.nextCursor
    hasMore = page.hasMore
  }
  if (cursor !== head) throw new Error(`pull stopped at ${cursor}, the head is ${head}`)
  out.pull_versions_per_s = head / ((performance.now() - t) / 1000)
  out.pull_changes_served = served

  const emptyPull = await latencies(polls, async () => {
    const page = await impl.pull({ scope, cursor: head, limit: 100 })
    if (page.changes.length !== 0) throw new Error("the empty pull was not empty")
  })
  const pull10 = await latencies(polls, async () => {
    const page = await impl.pull({ scope, cursor: head - 100, limit: 10 })
    if (page.changes.length !== 10) throw new Error(`a pull of 10 returned ${page.changes.length}`)
  })
  const messages = makeMessageOps({ seed: 0x0b3 })
  const push1 = await latencies(polls, async () => {
    const result = await impl.push(messages.batch(scope, 1))
    if (result.results[0]?.success !== true) throw new Error("a 1-op push failed")
  })
  const push3 = await latencies(polls, async () => {
    const result = await impl.push(messages.batch(scope, 3))
    if (!result.results.every((r) => r.success)) throw new Error("a 3-op push failed")
  })
  Object.assign(out, {
    empty_pull_p50_ms: emptyPull.p50,
    empty_pull_p99_ms: emptyPull.p99,
    pull10_p50_ms: pull10.p50,
    pull10_p99_ms: pull10.p99,
    push1_p50_ms: push1.p50,
    push1_p99_ms: push1.p99,
    push3_p50_ms: push3.p50,
    push3_p99_ms: push3.p99
  })
  return out
}

/** Every metric: key, label, and whether higher is better (a rate) or lower (a latency). */
export const metrics = [
  ["push_ops_per_s", "push ops/s (100-op batches)", "rate"],
  ["replay_ops_per_s", "replay ops/s", "rate"],
  ["pull_versions_per_s", "pull versions/s (pages of 1000)", "rate"],
  ["pull_changes_served", "changes served by that pull", "count"],
  ["single_op_p50_ms", "W1 single-op push p50 ms", "latency"],
  ["single_op_p99_ms", "W1 single-op push p99 ms", "latency"],
  ["empty_pull_p50_ms", "empty pull p50 ms", "latency"],
  ["empty_pull_p99_ms", "empty pull p99 ms", "latency"],
  ["pull10_p50_ms", "pull of 10 p50 ms", "latency"],
  ["pull10_p99_ms", "pull of 10 p99 ms", "latency"],
  ["push1_p50_ms", "1-op push p50 ms", "latency"],
  ["push1_p99_ms", "1-op push p99 ms", "latency"],
  ["push3_p50_ms", "3-op push p50 ms", "latency"],
  ["push3_p99_ms", "3-op push p99 ms", "latency"]
]
