/**
 * Crash safety of push: a writer process (fixtures/sync-writer.mjs: the SyncGateway on a WAL file,
 * synchronous FULL) pushes generated batches and prints every acknowledged opId with its version;
 * the test SIGKILLs it at random moments, restarts it, and after every kill checks the file with a
 * plain better-sqlite3 connection:
 * - `PRAGMA integrity_check` is ok;
 * - every op ever acknowledged is in the log at the version it was acknowledged with;
 * - versions per workspace are exactly 1..head;
 * - the materialized rows and tombstones equal the LWW replay of the log (support/lwwReplay.ts);
 * - a batch is in the log entirely or not at all;
 * - the batch in flight at the kill, pushed again by the next process (a client retrying), comes
 *   back as replays with the original versions if it had committed, as new ops if it had not;
 *   no opId is ever allocated twice.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { buildFixtures } from "./support/build.js"
import { type Child, killAll, type Message, sleep, spawnNode } from "./support/children.js"
import { type Ack, syncProblems, withRaw } from "./support/invariants.js"
import { makeRandom, replayHint, SEED, scaled, timeoutFor } from "./support/knobs.js"

let bundled: (name: string) => string
let dir: string

beforeAll(async () => {
  bundled = buildFixtures()
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-crash-push-"))
}, 180_000)
afterEach(killAll)
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const WORKSPACES = ["ws-crash-a", "ws-crash-b"]
/** Kill cycles per database file: bounds the log each check replays, whatever the scale. */
const CYCLES_PER_FILE = 25

interface Batch {
  readonly ws: string
  readonly ops: ReadonlyArray<{ readonly stamp: { readonly opId: string } }>
}

/** One database file's history across its kill cycles. */
interface FileState {
  readonly path: string
  /** opId (per workspace) → the version it was first acknowledged with. */
  readonly acked: Map<string, Ack>
  /** Batches whose push was cut by a kill (`b` unique per batch): the next process retries them first. */
  retry: Array<Batch & { readonly b: string }>
  /** For the retried ops: the version each had in the log before the retry (undefined = absent). */
  retryExpect: Map<string, number | undefined>
}

const ackKey = (ws: string, opId: string) => `${ws}\u0000${opId}`

const distinctOpIds = (ops: Batch["ops"]) => [...new Set(ops.map((op) => op.stamp.opId))]

/**
 * Versions of `opIds` in the log now (undefined where absent). A read-write connection: the first
 * one after a kill recovers the WAL, which a read-only connection may not be allowed to do.
 */
const logVersions = (path: string, ws: string, opIds: ReadonlyArray<string>) =>
  withRaw(path, (db) => {
    const find = db.prepare("SELECT server_version FROM change_log WHERE workspace_id = ? AND op_id = ?").pluck()
    return new Map(opIds.map((opId) => [opId, find.get(ws, opId) as number | undefined]))
  })

const figures = { cycles: 0, killsMidPush: 0, killsBeforeReady: 0, acked: 0, retried: 0, retriedCommitted: 0, ms: 0 }

/** Reads what one killed process reported, checks it against the file, and plans the retry. */
const settleCycle = (file: FileState, child: Child, cycle: number) => {
  const problems: Array<string> = []
  const messages: Array<Message> = child.messages
  for (const m of messages) {
    if (m.t === "error" || m.t === "garbled") problems.push(`child reported ${JSON.stringify(m).slice(0, 400)}`)
  }
  const intents = messages.filter((m) => m.t === "intent")
  const acks = messages.filter((m) => m.t === "ack")
  const ackedBatches = new Set(acks.map((m) => `${m.retry ? "r" : ""}${m.b}`))
  for (const ack of acks) {
    for (const [opId, code, error] of ack.fail) problems.push(`op ${opId} refused: ${code} ${error}`)
    for (const [opId, serverVersion, replayed] of ack.r as Array<[string, number, number]>) {
      const key = ackKey(ack.ws, opId)
      const first = file.acked.get(key)
      if (ack.retry) {
        figures.retried++
        const before = file.retryExpect.get(opId)
        if (before !== undefined) figures.retriedCommitted++
        if (before !== undefined && (replayed !== 1 || serverVersion !== before)) {
          problems.push(`retried ${opId} was in the log at v${before}: got v${serverVersion}, replayed=${replayed}`)
        }
        if (before === undefined && first === undefined && replayed !== 0) {
          problems.push(`retried ${opId} was not in the log, yet came back replayed at v${serverVersion}`)
        }
      }
      if (first === undefined) {
        if (replayed === 1 && !ack.retry && !file.retryExpect.has(opId)) {
          // A replay of an op this process pushed earlier in the same run is acked first; anything
          // else replayed without a first acknowledgment would be an op from nowhere.
          problems.push(`${opId} acknowledged as a replay but never acknowledged before`)
        }
        file.acked.set(key, { workspaceId: ack.ws, opId, serverVersion })
        figures.acked++
      } else if (first.serverVersion !== serverVersion || replayed !== 1) {
        problems.push(`${opId} acknowledged at v${first.serverVersion}, then at v${serverVersion} (replayed=${replayed})`)
      }
    }
  }
  const cut = intents.filter((m) => !ackedBatches.has(`${m.retry ? "r" : ""}${m.b}`))
  if (cut.length > 0) figures.killsMidPush++
  // Atomicity: each batch is in the log entirely or not at all (ops acknowledged earlier aside).
  for (const intent of intents) {
    const fresh = distinctOpIds(intent.ops).filter((opId) => !file.acked.has(ackKey(intent.ws, opId)))
    const present = [...logVersions(file.path, intent.ws, fresh).values()].filter((v) => v !== undefined).length
    if (present !== 0 && present !== fresh.length) {
      problems.push(`batch ${intent.b} of cycle ${cycle}: ${present} of ${fresh.length} new ops in the log`)
    }
  }
  // The next process retries what was cut, and what this one never reached.
  const attempted = new Set(intents.filter((m) => m.retry).map((m) => m.b))
  file.retry = [
    ...file.retry.filter((batch) => !attempted.has(batch.b)),
    ...cut.map((m) => ({ b: m.retry ? m.b : `c${cycle}b${m.b}`, ws: m.ws, ops: m.ops }))
  ]
  file.retryExpect = new Map()
  for (const batch of file.retry) {
    const opIds = distinctOpIds(batch.ops)
    const found = logVersions(file.path, batch.ws, opIds)
    for (const opId of opIds) {
      file.retryExpect.set(opId, file.acked.get(ackKey(batch.ws, opId))?.serverVersion ?? found.get(opId))
    }
  }
  problems.push(...withRaw(file.path, (db) => syncProblems(db, file.acked.values())))
  return problems
}

describe("SIGKILL while pushing", () => {
  const cycles = scaled(50)

  it(`${cycles} kill/restart cycles keep every acknowledged op, contiguous versions and the LWW state`, async () => {
    const started = Date.now()
    const random = makeRandom(SEED)
    let file: FileState | undefined
    for (let cycle = 0; cycle < cycles; cycle++) {
      if (cycle % CYCLES_PER_FILE === 0) {
        const path = Path.join(dir, `push-${cycle}.sqlite`)
        file = { path, acked: new Map(), retry: [], retryExpect: new Map() }
      }
      const state = file!
      const child = spawnNode(bundled("sync-writer.mjs"), [
        state.path,
        JSON.stringify({
          seed: (SEED + cycle * 7919) >>> 0,
          deviceId: `device-${cycle % 3}`,
          workspaces: WORKSPACES,
          keys: 30,
          maxBatch: 60,
          retry: state.retry
        })
      ])
      if (random.chance(0.1)) {
        // Now and then, kill during start-up: opening the file, WAL recovery, migrations.
        figures.killsBeforeReady++
        await sleep(random.int(0, 400))
      } else {
        await child.waitFor((m) => m.t === "ready" || m.t === "error", 60_000)
        await sleep(random.int(0, 300))
      }
      await child.kill()
      const problems = settleCycle(state, child, cycle)
      assert.deepStrictEqual(problems, [], `cycle ${cycle} (${state.path}); ${replayHint}; stderr: ${child.stderr().slice(-2000)}`)
      figures.cycles++
    }

    // The last file still works after all that: a clean run retries what was cut and finishes.
    const state = file!
    const last = spawnNode(bundled("sync-writer.mjs"), [
      state.path,
      JSON.stringify({ seed: SEED ^ 0xabcdef, deviceId: "device-final", workspaces: WORKSPACES, batches: 5, retry: state.retry })
    ])
    await last.waitFor((m) => m.t === "done" || m.t === "error", 60_000)
    assert.deepStrictEqual((await last.exited).code, 0, last.stderr())
    assert.deepStrictEqual(settleCycle(state, last, cycles), [], replayHint)

    figures.ms = Date.now() - started
    console.log(`[reliability] crash-push ${JSON.stringify(figures)} seed=${SEED}`)
    // The kills must have hit pushes in flight, or the test proved nothing about atomicity.
    assert.isAtLeast(figures.killsMidPush, Math.ceil(cycles / 5), "too few kills landed during a push")
    assert.isAtLeast(figures.acked, cycles * 5)
  }, timeoutFor(900_000))
})
