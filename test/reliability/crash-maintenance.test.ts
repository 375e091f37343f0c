/**
 * Crash safety of the two long-running writes: a migration and history GC, each SIGKILLed at
 * random moments in a child process (fixtures/migrator.mjs, fixtures/gc-runner.mjs).
 * - Migration: the database is left at the old schema or the complete new one, never between
 *   (the migrations run in one transaction), its data intact, and a rerun finishes the job.
 * - GC (`gcChangeLog` + `gcTombstones` over many rows, in 1000-row transactions): after the kill
 *   the file is sound, nothing GC must not touch changed, every removed entry was superseded or
 *   went with a forgotten delete under the horizon, and a rerun ends exactly where an
 *   uninterrupted GC ends.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { migrations } from "../../src/migrations/index.js"
import { buildFixtures } from "./support/build.js"
import { type Child, killAll, sleep, spawnNode } from "./support/children.js"
import {
  copyDatabase,
  integrityProblems,
  readImages,
  readLog,
  type Raw,
  schemaFingerprint,
  withRaw
} from "./support/invariants.js"
import type { LogEntry, RowImage, TombImage } from "./support/lwwReplay.js"
import { makeRandom, replayHint, SEED, scaled, timeoutFor } from "./support/knobs.js"

let bundled: (name: string) => string
let dir: string

beforeAll(async () => {
  bundled = buildFixtures()
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-crash-maintenance-"))
}, 180_000)
afterEach(killAll)
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const WORKSPACES = ["ws-gc-a", "ws-gc-b"]

/** Runs a fixture to its end and returns it; fails on a non-zero exit or an error line. */
const runToEnd = async (script: string, args: ReadonlyArray<string>, last: string): Promise<Child> => {
  const child = spawnNode(bundled(script), args)
  await child.waitFor((m) => m.t === last || m.t === "error", 120_000)
  const exit = await child.exited
  assert.strictEqual(exit.code, 0, `${script} failed: ${JSON.stringify(child.messages.at(-1))} ${child.stderr()}`)
  return child
}

/** A database at schema 0001 holding some synced data (pushed by the writer fixture). */
const seedDatabase = async (path: string, batches: number, maxBatch: number, keys: number) => {
  await runToEnd("sync-writer.mjs", [
    path,
    JSON.stringify({ seed: SEED, deviceId: "device-seed", workspaces: WORKSPACES, batches, maxBatch, keys })
  ], "done")
}

describe("SIGKILL during a migration", () => {
  const cycles = scaled(10)
  const slow = { rows: 1200, every: 100, pauseMs: 20 }

  it(`${cycles} kills leave the old schema or the new one, never a mix`, async () => {
    const random = makeRandom(SEED ^ 0x1234)
    const template = Path.join(dir, "migration-template.sqlite")
    await seedDatabase(template, 10, 20, 20)
    const oldSchema = withRaw(template, schemaFingerprint)
    const data = withRaw(template, (db) => readImages(db, WORKSPACES[0]))

    // One uninterrupted run: the new schema, and how long the migration takes from its start line.
    const reference = Path.join(dir, "migration-reference.sqlite")
    copyDatabase(template, reference)
    const t0 = Date.now()
    const full = spawnNode(bundled("migrator.mjs"), [reference, JSON.stringify(slow)])
    await full.waitFor((m) => m.t === "start")
    const startedAt = Date.now()
    await full.waitFor((m) => m.t === "migrated" || m.t === "error", 120_000)
    const duration = Date.now() - startedAt
    // The fixture numbers its slow step after the package's newest migration.
    const slowKey = `${String(Math.max(...Object.keys(migrations).map((key) => Number(key.split("_")[0]))) + 1).padStart(4, "0")}_slow_step`
    assert.deepStrictEqual(full.messages.at(-1)?.applied, [slowKey], full.stderr())
    const newSchema = withRaw(reference, schemaFingerprint)
    assert.notDeepEqual(newSchema, oldSchema)

    const outcomes = { old: 0, new: 0 }
    for (let cycle = 0; cycle < cycles; cycle++) {
      const path = Path.join(dir, `migration-${cycle}.sqlite`)
      copyDatabase(template, path)
      const child = spawnNode(bundled("migrator.mjs"), [path, JSON.stringify(slow)])
      await child.waitFor((m) => m.t === "start")
      // Mostly inside the transaction, sometimes just after its commit; the first kill always
      // aims inside, so that a run of few cycles (OR3_RELIABILITY_SCALE) still cuts one.
      await sleep(random.int(0, Math.round(duration * (cycle === 0 ? 0.8 : 1.3))))
      await child.kill()
      withRaw(path, (db) => {
        assert.deepStrictEqual(integrityProblems(db), [], `cycle ${cycle}; ${replayHint}`)
        const schema = schemaFingerprint(db)
        const isOld = JSON.stringify(schema) === JSON.stringify(oldSchema)
        const isNew = JSON.stringify(schema) === JSON.stringify(newSchema)
        assert.isTrue(isOld || isNew, `cycle ${cycle}: schema is neither old nor new: ${JSON.stringify(schema.ledger)}; ${replayHint}`)
        if (isNew) assert.strictEqual(db.prepare("SELECT count(*) FROM slow_step").pluck().get(), slow.rows)
        outcomes[isNew ? "new" : "old"]++
        assert.deepStrictEqual(readImages(db, WORKSPACES[0]), data, "the data survived")
      })
      // A clean start finishes the job.
      await runToEnd("migrator.mjs", [path, JSON.stringify(slow)], "migrated")
      withRaw(path, (db) => {
        assert.deepStrictEqual(schemaFingerprint(db), newSchema)
        assert.strictEqual(db.prepare("SELECT count(*) FROM slow_step").pluck().get(), slow.rows)
        assert.deepStrictEqual(integrityProblems(db), [])
      })
    }
    console.log(`[reliability] crash-migration ${JSON.stringify({ cycles, ...outcomes, migrationMs: duration, ms: Date.now() - t0 })}`)
    assert.isAtLeast(outcomes.old, 1, "no kill landed inside the migration")
  }, timeoutFor(600_000))
})

// --- GC ---------------------------------------------------------------------------------------

interface Picture {
  readonly log: Map<string, Map<number, LogEntry & { readonly superseded: number }>>
  readonly tombs: Map<string, Map<string, TombImage>>
  readonly rows: Map<string, Map<string, RowImage>>
  readonly heads: Map<string, { head: number; horizon: number }>
}

const picture = (db: Raw): Picture => {
  const heads = new Map(
    (db.prepare("SELECT workspace_id, head, horizon FROM sync_heads").all() as Array<{ workspace_id: string; head: number; horizon: number }>)
      .map((h) => [h.workspace_id, { head: h.head, horizon: h.horizon }])
  )
  const superseded = db.prepare("SELECT server_version, superseded FROM change_log WHERE workspace_id = ?").raw(true)
  const log = new Map<string, Map<number, LogEntry & { readonly superseded: number }>>()
  const tombs = new Map<string, Map<string, TombImage>>()
  const rows = new Map<string, Map<string, RowImage>>()
  for (const ws of WORKSPACES) {
    const flags = new Map(superseded.all(ws) as Array<[number, number]>)
    log.set(ws, new Map(readLog(db, ws).map((e) => [e.server_version, { ...e, superseded: flags.get(e.server_version)! }])))
    const images = readImages(db, ws)
    tombs.set(ws, new Map(images.tombs.map((t) => [`${t.table_name}/${t.pk}`, t])))
    rows.set(ws, new Map(images.rows.map((r) => [`${r.table_name}/${r.pk}`, r])))
  }
  return { log, tombs, rows, heads }
}

/**
 * What may differ between the database before GC and after a (possibly cut) GC (docs/sync.md, "GC
 * rules"): superseded entries may be gone (compaction); a tombstone whose row has a higher version
 * may be gone (stale); a key whose winning delete was forgotten is gone whole, its tombstone,
 * deleted row and winning entry together, at or below the horizon. Nothing else changes.
 */
const gcProblems = (before: Picture, after: Picture): Array<string> => {
  const problems: Array<string> = []
  for (const ws of WORKSPACES) {
    const head = after.heads.get(ws)!
    if (head.head !== before.heads.get(ws)!.head) problems.push(`${ws}: head moved`)
    if (head.horizon < before.heads.get(ws)!.horizon) problems.push(`${ws}: horizon went down`)
    const [rowsB, rowsA] = [before.rows.get(ws)!, after.rows.get(ws)!]
    const [tombsB, tombsA] = [before.tombs.get(ws)!, after.tombs.get(ws)!]
    const [logB, logA] = [before.log.get(ws)!, after.log.get(ws)!]
    const forgottenWinners = new Set<number>()
    for (const key of new Set([...rowsB.keys(), ...tombsB.keys()])) {
      if (rowsA.has(key) || tombsA.has(key)) continue
      const row = rowsB.get(key)
      const tomb = tombsB.get(key)
      const version = row?.server_version ?? tomb!.server_version
      if (tomb?.server_version !== version || (row !== undefined && row.deleted !== 1)) {
        problems.push(`${ws}: ${key} was forgotten though its winner v${version} is not a delete its tombstone holds`)
      }
      if (version > head.horizon) problems.push(`${ws}: ${key} forgotten at v${version}, above the horizon ${head.horizon}`)
      if (logA.has(version)) problems.push(`${ws}: ${key} forgotten but its winning entry v${version} is still served`)
      forgottenWinners.add(version)
    }
    for (const [key, row] of rowsA) {
      if (JSON.stringify(rowsB.get(key)) !== JSON.stringify(row)) problems.push(`${ws}: row ${key} changed or appeared`)
    }
    for (const [key, tomb] of tombsB) {
      const kept = tombsA.get(key)
      if (kept !== undefined) {
        if (JSON.stringify(kept) !== JSON.stringify(tomb)) problems.push(`${ws}: tombstone ${key} changed`)
      } else if (rowsA.has(key) && rowsA.get(key)!.server_version <= tomb.server_version) {
        problems.push(`${ws}: tombstone ${key} dropped though its row still holds that delete`)
      }
    }
    for (const [version, entry] of logB) {
      const kept = logA.get(version)
      if (kept !== undefined) {
        if (JSON.stringify(kept) !== JSON.stringify(entry)) problems.push(`${ws}: v${version} changed`)
      } else if (entry.superseded !== 1 && !forgottenWinners.has(version)) {
        problems.push(`${ws}: v${version} removed though it is its key's winner`)
      }
    }
    for (const version of logA.keys()) if (!logB.has(version)) problems.push(`${ws}: v${version} appeared`)
  }
  return problems
}

describe("SIGKILL during history GC", () => {
  const cycles = scaled(8)

  it(`${cycles} kills mid-GC: invariants hold, and a rerun ends where an uninterrupted GC ends`, async () => {
    const random = makeRandom(SEED ^ 0x9876)
    const t0 = Date.now()
    const seeded = Path.join(dir, "gc-seed.sqlite")
    await seedDatabase(seeded, scaled(150, 20), 100, 150)
    const before = withRaw(seeded, picture)
    const entries = [...before.log.values()].reduce((n, log) => n + log.size, 0)
    // Two days on, with a one-hour window: every entry is old enough. One device per workspace
    // confirmed half of the log (just before GC, so its cursor is fresh): deletes past it stay.
    const gcConfig = JSON.stringify({
      workspaces: WORKSPACES,
      retentionSeconds: 3600,
      nowMs: Date.now() + 2 * 86_400_000,
      cursors: WORKSPACES.map((workspaceId) => ({
        workspaceId,
        deviceId: "device-half",
        version: Math.floor(before.heads.get(workspaceId)!.head / 2)
      }))
    })

    const reference = Path.join(dir, "gc-reference.sqlite")
    copyDatabase(seeded, reference)
    const full = spawnNode(bundled("gc-runner.mjs"), [reference, gcConfig])
    await full.waitFor((m) => m.t === "gc-start", 60_000)
    const startedAt = Date.now()
    await full.waitFor((m) => m.t === "done" || m.t === "error", 120_000)
    const duration = Date.now() - startedAt
    const expected = withRaw(reference, picture)
    assert.deepStrictEqual(gcProblems(before, expected), [])
    const purged = entries - [...expected.log.values()].reduce((n, log) => n + log.size, 0)
    assert.isAbove(purged, entries / 3, "GC had little to do; the test would prove nothing")
    assert.isBelow(purged, entries, "the cursors protected nothing")
    for (const ws of WORKSPACES) {
      const { horizon } = expected.heads.get(ws)!
      assert.isAbove(horizon, 0, `${ws}: GC forgot no delete`)
      assert.isAtMost(horizon, Math.floor(before.heads.get(ws)!.head / 2), `${ws}: a delete past the cursor was forgotten`)
    }

    let cut = 0
    for (let cycle = 0; cycle < cycles; cycle++) {
      const path = Path.join(dir, `gc-${cycle}.sqlite`)
      copyDatabase(seeded, path)
      const child = spawnNode(bundled("gc-runner.mjs"), [path, gcConfig])
      await child.waitFor((m) => m.t === "gc-start", 60_000)
      // The first kill aims well inside, as in the migration test above.
      await sleep(random.int(0, Math.round(duration * (cycle === 0 ? 0.8 : 1))))
      await child.kill()
      if (!child.messages.some((m) => m.t === "done")) cut++
      withRaw(path, (db) => {
        assert.deepStrictEqual(integrityProblems(db), [], `cycle ${cycle}; ${replayHint}`)
        assert.deepStrictEqual(gcProblems(before, picture(db)), [], `cycle ${cycle}; ${replayHint}`)
      })
      await runToEnd("gc-runner.mjs", [path, gcConfig], "done")
      const after = withRaw(path, picture)
      assert.deepStrictEqual(gcProblems(before, after), [])
      assert.deepStrictEqual([...after.heads], [...expected.heads], `cycle ${cycle}: horizon differs`)
      for (const ws of WORKSPACES) {
        assert.deepStrictEqual([...after.log.get(ws)!.keys()], [...expected.log.get(ws)!.keys()], `cycle ${cycle}: ${ws} log differs`)
        assert.deepStrictEqual([...after.tombs.get(ws)!.keys()], [...expected.tombs.get(ws)!.keys()], `cycle ${cycle}: ${ws} tombstones differ`)
      }
    }
    console.log(`[reliability] crash-gc ${JSON.stringify({ cycles, cut, entries, purged, gcMs: duration, ms: Date.now() - t0 })}`)
    assert.isAtLeast(cut, 1, "no kill landed inside GC")
  }, timeoutFor(600_000))
})
