/**
 * Concurrent writers on one database file and one workspace:
 * - four writer processes (fixtures/sync-writer.mjs) started at the same moment on a new file (so
 *   they also race through the migrations), each pushing its own batches and then replaying the
 *   batches of the next writer, regenerated from that writer's seed;
 * - eight fibers pushing through one process's connection while a second connection in another
 *   process (fixtures/cli-writer.mjs, plain better-sqlite3 with BEGIN IMMEDIATE, as the CLI opens
 *   the file) takes the write lock over and over, and two fibers pull throughout.
 * Nobody may see SQLITE_BUSY within the busy timeout; versions are contiguous and unique; every
 * acknowledged op is in the log at its version; an opId gets exactly one new version whoever pushes
 * it first, and every other push of it is a replay of that version.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, ManagedRuntime } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { layerSqlFile } from "../../src/layers/Migrations.js"
import { SyncGateway } from "../../src/services/SyncGateway.js"
import { makeOpGenerator } from "./fixtures/ops.mjs"
import { buildFixtures } from "./support/build.js"
import { killAll, spawnNode } from "./support/children.js"
import { type Ack, readImages, syncProblems, withRaw } from "./support/invariants.js"
import { replayHint, SEED, scaled, timeoutFor } from "./support/knobs.js"

let bundled: (name: string) => string
let dir: string

beforeAll(async () => {
  bundled = buildFixtures()
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-concurrent-"))
}, 180_000)
afterEach(killAll)
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const WS = "ws-concurrent"

/** Acknowledgments from every writer: one new version per opId, every other one a replay of it. */
class AckBook {
  private readonly seen = new Map<string, { serverVersion: number; allocated: boolean }>()
  readonly problems: Array<string> = []
  replays = 0
  record(opId: string, serverVersion: number, replayed: boolean, who: string) {
    const seen = this.seen.get(opId)
    if (replayed) this.replays++
    if (seen === undefined) {
      this.seen.set(opId, { serverVersion, allocated: !replayed })
      return
    }
    if (seen.serverVersion !== serverVersion) {
      this.problems.push(`${opId} acknowledged at v${seen.serverVersion} and at v${serverVersion} (${who})`)
    }
    if (!replayed && seen.allocated) this.problems.push(`${opId} allocated a version twice (${who})`)
    seen.allocated ||= !replayed
  }
  get size() {
    return this.seen.size
  }
  acks(): Array<Ack> {
    return [...this.seen].map(([opId, { serverVersion }]) => ({ workspaceId: WS, opId, serverVersion }))
  }
  /** OpIds only ever acknowledged as replays: nobody was told they were new. */
  orphans() {
    return [...this.seen].filter(([, s]) => !s.allocated).map(([opId]) => opId)
  }
}

describe("four writer processes, one file, one workspace", () => {
  const batches = scaled(40)

  it(`4 processes x ${batches} batches, then each replays another's: contiguous, unique, idempotent`, async () => {
    const t0 = Date.now()
    const path = Path.join(dir, "four.sqlite")
    const writers = [0, 1, 2, 3].map((i) => ({ seed: (SEED + i * 104729) >>> 0, deviceId: `writer-${i}` }))
    // A generous busy timeout: the claim is "no SQLITE_BUSY within the timeout", and four
    // processes migrating and pushing at once on a loaded two-core machine can queue for seconds.
    const common = { workspaces: [WS], keys: 25, maxBatch: 50, batches, busyTimeoutMs: 20_000 }
    const children = writers.map((writer, i) =>
      spawnNode(bundled("sync-writer.mjs"), [
        path,
        JSON.stringify({ ...common, ...writer, replayOf: [{ ...writers[(i + 1) % 4], batches }] })
      ])
    )
    await Promise.all(children.map((child) => child.waitFor((m) => m.t === "done" || (m.t === "error" && m.b === -1), timeoutFor(300_000))))
    const book = new AckBook()
    let pushes = 0
    for (const [i, child] of children.entries()) {
      const exit = await child.exited
      const notes = child.messages.filter((m) => m.t !== "intent" && m.t !== "ack")
      assert.strictEqual(exit.code, 0, `writer ${i}: ${JSON.stringify(notes).slice(0, 3000)} ${child.stderr().slice(-3000)}`)
      const errors = child.messages.filter((m) => m.t === "error" || m.t === "garbled")
      assert.deepStrictEqual(errors, [], `writer ${i}: ${replayHint}`)
      for (const ack of child.messages.filter((m) => m.t === "ack")) {
        pushes++
        assert.deepStrictEqual(ack.fail, [], `writer ${i}`)
        for (const [opId, serverVersion, replayed] of ack.r) book.record(opId, serverVersion, replayed === 1, `writer ${i}`)
      }
    }
    assert.deepStrictEqual(book.problems, [], replayHint)
    assert.deepStrictEqual(book.orphans(), [])
    assert.deepStrictEqual(withRaw(path, (db) => syncProblems(db, book.acks())), [], replayHint)
    const head = withRaw(path, (db) => db.prepare("SELECT head FROM sync_heads WHERE workspace_id = ?").pluck().get(WS))
    assert.strictEqual(head, book.size, "one version per distinct op")
    console.log(`[reliability] concurrent-processes ${JSON.stringify({ processes: 4, pushes, ops: book.size, replays: book.replays, ms: Date.now() - t0 })}`)
  }, timeoutFor(600_000))
})

describe("eight fibers and a CLI connection", () => {
  const rounds = scaled(25)

  it(`8 fibers x ${rounds} batches + 2 pulling fibers, against BEGIN IMMEDIATE from another process`, async () => {
    const t0 = Date.now()
    const path = Path.join(dir, "fibers.sqlite")
    const runtime = ManagedRuntime.make(SyncGateway.Default.pipe(Layer.provideMerge(layerSqlFile(path))))
    try {
      await runtime.runPromise(Effect.void)
      const cli = spawnNode(bundled("cli-writer.mjs"), [
        path,
        JSON.stringify({ transactions: scaled(150), holdMs: 4, pauseMs: 3 })
      ])
      await cli.waitFor((m) => m.t === "ready")

      const book = new AckBook()
      const failures: Array<string> = []
      let writing = 8
      const writer = (i: number) =>
        Effect.gen(function*() {
          const gateway = yield* SyncGateway
          const generator = makeOpGenerator({ seed: (SEED ^ (i * 7777)) >>> 0, deviceId: `fiber-${i}`, workspaces: [WS], keys: 25, maxBatch: 50 })
          const sent: Array<ReturnType<typeof generator.batch>> = []
          for (let b = 0; b < rounds; b++) {
            const batch = generator.batch()
            sent.push(batch)
            const exit = yield* Effect.exit(gateway.push({ scope: { workspaceId: WS }, ops: batch.ops }))
            if (Exit.isFailure(exit)) {
              failures.push(`fiber ${i} batch ${b}: ${String(exit.cause)}`)
              continue
            }
            for (const r of exit.value.results) {
              if (!r.success) failures.push(`fiber ${i}: ${r.opId} ${r.errorCode} ${r.error}`)
              else book.record(r.opId, r.serverVersion!, r.replayed === true, `fiber ${i}`)
            }
          }
          // Pushing everything again changes nothing: every op is a replay of its version.
          for (const batch of sent) {
            const result = yield* gateway.push({ scope: { workspaceId: WS }, ops: batch.ops })
            for (const r of result.results) {
              if (r.replayed !== true) failures.push(`fiber ${i}: ${r.opId} not a replay the second time`)
              book.record(r.opId, r.serverVersion!, true, `fiber ${i} again`)
            }
          }
        }).pipe(Effect.ensuring(Effect.sync(() => writing--)))

      // Readers: an unfiltered pull never goes back and never skips a state, whatever commits
      // meanwhile: each key's last served version is its final winner's.
      const reader = (i: number) =>
        Effect.gen(function*() {
          const gateway = yield* SyncGateway
          let cursor = 0
          const seen: Array<number> = []
          const last = new Map<string, number>()
          for (;;) {
            const done = writing === 0
            const page = yield* gateway.pull({ scope: { workspaceId: WS }, cursor, limit: 7 + i * 300 })
            for (const change of page.changes) {
              seen.push(change.serverVersion)
              last.set(`${change.tableName}/${change.pk}`, change.serverVersion)
            }
            cursor = page.nextCursor
            if (done && !page.hasMore) return { seen, last }
            if (!page.hasMore) yield* Effect.sleep("2 millis")
          }
        })

      const [, seen] = await runtime.runPromise(
        Effect.all([
          Effect.all([0, 1, 2, 3, 4, 5, 6, 7].map(writer), { concurrency: "unbounded" }),
          Effect.all([reader(0), reader(1)], { concurrency: "unbounded" })
        ], { concurrency: "unbounded" })
      )
      const cliDone = await cli.waitFor((m) => m.t === "done", timeoutFor(300_000))

      assert.deepStrictEqual(failures, [], replayHint)
      assert.deepStrictEqual(book.problems, [], replayHint)
      assert.deepStrictEqual(cliDone.errors, [], "the CLI connection met SQLITE_BUSY")
      assert.strictEqual(cliDone.committed, scaled(150))
      const head = book.size
      const { rows, tombs } = withRaw(path, (db) => readImages(db, WS))
      const winners = new Map(rows.map((r) => [`${r.table_name}/${r.pk}`, r.server_version]))
      for (const t of tombs) if (!winners.has(`${t.table_name}/${t.pk}`)) winners.set(`${t.table_name}/${t.pk}`, t.server_version)
      for (const { seen: versions, last } of seen) {
        assert.isTrue(versions.every((v, k) => k === 0 || v > versions[k - 1]), "a reader went back or repeated a version")
        assert.isAtMost(versions.at(-1) ?? 0, head)
        assert.deepStrictEqual(new Map([...last].sort()), new Map([...winners].sort()), "a reader missed a key's final state")
      }
      assert.deepStrictEqual(withRaw(path, (db) => syncProblems(db, book.acks())), [], replayHint)
      console.log(`[reliability] concurrent-fibers ${JSON.stringify({ fibers: 8, readers: 2, ops: head, cliTransactions: cliDone.committed, cliMaxWaitMs: cliDone.maxWaitMs, ms: Date.now() - t0 })}`)
    } finally {
      await runtime.dispose()
    }
  }, timeoutFor(600_000))
})
