/**
 * History GC (docs/sync.md "GC rules"): gcChangeLog compacts (it removes superseded entries, never
 * a key's current winner), gcTombstones forgets old deletes. Both work in bounded batches, each one
 * short `BEGIN IMMEDIATE` transaction that re-reads what protects history (device cursors, live
 * snapshot chains), so pushes and pulls interleave between batches.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { traced } from "../../layers/Spans.js"
import { decodeInput } from "../../schema/decode.js"
import { Limits } from "../../schema/limits.js"
import { SyncedTables, type SyncedTableName } from "../../schema/tables.js"
import { GcRequest } from "../../schema/wire.js"
import { nowMillis } from "../Ids.js"
import type { GcOptions, GcReport } from "../SyncGateway.js"

type OnBatch = NonNullable<GcOptions["onBatch"]>

const decodeRequest = decodeInput(GcRequest, "gc")

/** What protects history in a workspace right now. */
interface Guards {
  /** Lowest remaining device cursor (C), null when no device has one. */
  readonly minCursor: number | null
  /** Lowest watermark of the live snapshot chains (P), null when none is live. */
  readonly minWatermark: number | null
  readonly head: number
  readonly horizon: number
}

interface Keyed {
  readonly table_name: string
  readonly pk: string
  readonly server_version: number
}

const groupByTable = <A extends Keyed>(items: ReadonlyArray<A>) => {
  const groups = new Map<SyncedTableName, Array<A>>()
  for (const item of items) {
    const table = item.table_name as SyncedTableName
    let group = groups.get(table)
    if (group === undefined) groups.set(table, (group = []))
    group.push(item)
  }
  return groups
}

/** Entries in version order up to the first one not older than the cutoff (the rest are newer). */
const olderThan = <A extends { readonly at: number }>(items: ReadonlyArray<A>, cutoff: number) => {
  const end = items.findIndex((item) => item.at >= cutoff)
  return end === -1 ? { old: items, reachedNew: false } : { old: items.slice(0, end), reachedNew: true }
}

export const makeGc = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const batch = Limits.gcBatchSize

  const readGuards = Effect.fnUntraced(function*(workspaceId: string, now: number) {
    const [row] = yield* sql<{ min_cursor: number | null; min_watermark: number | null; head: number | null; horizon: number | null }>`
      SELECT
        (SELECT min(version) FROM device_cursors WHERE workspace_id = ${workspaceId}) AS min_cursor,
        (SELECT min(high_watermark) FROM snapshots WHERE workspace_id = ${workspaceId} AND expires_at > ${now}) AS min_watermark,
        h.head AS head, h.horizon AS horizon
      FROM (SELECT 1) LEFT JOIN sync_heads h ON h.workspace_id = ${workspaceId}`
    return {
      minCursor: row.min_cursor,
      minWatermark: row.min_watermark,
      head: row.head ?? 0,
      horizon: row.horizon ?? 0
    } satisfies Guards
  })

  /**
   * Rule 1: cursors idle for longer than the window stop protecting deletes from tombstone GC (a
   * device that comes back later may find `cursor < horizon` and snapshots), and expired snapshot
   * chains stop pinning history.
   */
  const expire = Effect.fnUntraced(function*(workspaceId: string, cutoff: number) {
    let expiredCursors = 0
    for (;;) {
      const gone = yield* sql.withTransaction(Effect.gen(function*() {
        const now = yield* nowMillis
        yield* sql`
          DELETE FROM snapshots WHERE id IN (
            SELECT id FROM snapshots WHERE workspace_id = ${workspaceId} AND expires_at <= ${now} LIMIT ${batch})`
        return yield* sql<{ device_id: string }>`
          DELETE FROM device_cursors WHERE workspace_id = ${workspaceId} AND device_id IN (
            SELECT device_id FROM device_cursors
            WHERE workspace_id = ${workspaceId} AND updated_at < ${cutoff} LIMIT ${batch})
          RETURNING device_id`
      }))
      expiredCursors += gone.length
      if (gone.length < batch) return expiredCursors
    }
  })

  /** The current winner version of each key (its row's, else its tombstone's), set-based. */
  const winners = Effect.fnUntraced(function*(workspaceId: string, table: SyncedTableName, pks: ReadonlyArray<string>) {
    const unique = [...new Set(pks)]
    const rows = yield* sql<{ pk: string; server_version: number }>`
      SELECT pk, server_version FROM ${sql(SyncedTables[table].sqlTable)}
      WHERE workspace_id = ${workspaceId} AND pk IN ${sql.in(unique)}`
    const found = new Map(rows.map((r) => [r.pk, r.server_version]))
    const missing = unique.filter((pk) => !found.has(pk))
    if (missing.length > 0) {
      const tombs = yield* sql<{ pk: string; server_version: number }>`
        SELECT pk, server_version FROM tombstones
        WHERE workspace_id = ${workspaceId} AND table_name = ${table} AND pk IN ${sql.in(missing)}`
      for (const t of tombs) found.set(t.pk, t.server_version)
    }
    return found
  })

  /**
   * One batch of compaction (rule 2): the next superseded entries after `after`, at most `batch`,
   * through the partial index `change_log_superseded`, stopping at the first entry inside the
   * window. Pull never serves them, and a retry of their op is answered by LWW ("Idempotency after
   * GC"), so with no live snapshot chain every one goes. A live chain may still walk through an
   * entry (`prior_version`) to its state at W: then an entry goes only when its key's current
   * winner is at or below P, the lowest live watermark (no chain starts its walk above P), or when
   * its key has no state at all (purged by tombstone GC, which waits for no live chain: every live
   * chain began after the purge). Current winners are never touched, so nothing a device needs is
   * lost and the horizon does not move.
   */
  const changeLogBatch = (workspaceId: string, cutoff: number, after: number, onBatch: OnBatch) =>
    sql.withTransaction(Effect.gen(function*() {
      const guards = yield* readGuards(workspaceId, yield* nowMillis)
      const scanned = yield* sql<Keyed & { created_at: number }>`
        SELECT server_version, table_name, pk, created_at FROM change_log
        WHERE workspace_id = ${workspaceId} AND superseded = 1 AND server_version > ${after}
        ORDER BY server_version LIMIT ${batch}`
      const { old, reachedNew } = olderThan(scanned.map((e) => ({ ...e, at: e.created_at })), cutoff)
      const doomed: Array<number> = []
      const watermark = guards.minWatermark
      if (watermark === null) {
        for (const e of old) doomed.push(e.server_version)
      } else {
        for (const [table, entries] of groupByTable(old)) {
          const current = yield* winners(workspaceId, table, entries.map((e) => e.pk))
          for (const e of entries) {
            const winner = current.get(e.pk)
            if (winner === undefined || winner <= watermark) doomed.push(e.server_version)
          }
        }
      }
      if (doomed.length > 0) {
        yield* sql`DELETE FROM change_log WHERE workspace_id = ${workspaceId} AND server_version IN ${sql.in(doomed)}`
      }
      yield* onBatch({ scanned: old.length, deleted: doomed.length })
      return {
        deleted: doomed.length,
        horizon: guards.horizon,
        last: old.length > 0 ? old[old.length - 1].server_version : after,
        done: reachedNew || scanned.length < batch
      }
    }))

  /**
   * One batch of tombstone GC (rules 3-4): tombstones older than the window and at or behind every
   * remaining cursor C, in version order. A tombstone whose row has moved on (a later entry won the
   * key) remembers nothing the row does not: it goes. A tombstone that holds its key's winning
   * delete is the last memory of that delete: with no live snapshot chain, the key is forgotten
   * (tombstone, deleted row, winning entry) and the horizon rises to the delete's version. Every
   * device with a cursor has pulled past it; a device without one (its cursor expired, rule 1) may
   * still hold the row, and its cursor is below the horizon: it is told to rebuild from a snapshot.
   */
  const tombstoneBatch = (workspaceId: string, cutoff: number, after: number, onBatch: OnBatch) =>
    sql.withTransaction(Effect.gen(function*() {
      const guards = yield* readGuards(workspaceId, yield* nowMillis)
      const upper = Math.min(guards.head, guards.minCursor ?? Infinity)
      const scanned = yield* sql<Keyed & { deleted_at: number }>`
        SELECT table_name, pk, server_version, deleted_at FROM tombstones
        WHERE workspace_id = ${workspaceId} AND server_version > ${after} AND server_version <= ${upper}
        ORDER BY server_version LIMIT ${batch}`
      const { old, reachedNew } = olderThan(scanned.map((t) => ({ ...t, at: t.deleted_at })), cutoff)
      let deleted = 0
      let horizon = guards.horizon
      for (const [table, tombs] of groupByTable(old)) {
        const rowTable = sql(SyncedTables[table].sqlTable)
        const rows = yield* sql<{ pk: string; server_version: number }>`
          SELECT pk, server_version FROM ${rowTable}
          WHERE workspace_id = ${workspaceId} AND pk IN ${sql.in(tombs.map((t) => t.pk))}`
        const rowVersion = new Map(rows.map((r) => [r.pk, r.server_version]))
        const stale: Array<(typeof tombs)[number]> = []
        const winning: typeof stale = []
        for (const t of tombs) ((rowVersion.get(t.pk) ?? -1) > t.server_version ? stale : winning).push(t)
        const forgotten = guards.minWatermark === null ? winning : []
        const doomed = [...stale, ...forgotten]
        if (doomed.length === 0) continue
        yield* sql`
          DELETE FROM tombstones
          WHERE workspace_id = ${workspaceId} AND table_name = ${table} AND pk IN ${sql.in(doomed.map((t) => t.pk))}`
        if (forgotten.length > 0) {
          yield* sql`DELETE FROM ${rowTable} WHERE workspace_id = ${workspaceId} AND pk IN ${sql.in(forgotten.map((t) => t.pk))}`
          const versions = forgotten.map((t) => t.server_version)
          yield* sql`DELETE FROM change_log WHERE workspace_id = ${workspaceId} AND server_version IN ${sql.in(versions)}`
          horizon = Math.max(horizon, ...versions)
        }
        deleted += doomed.length
      }
      if (horizon > guards.horizon) {
        yield* sql`UPDATE sync_heads SET horizon = ${horizon} WHERE workspace_id = ${workspaceId}`
      }
      yield* onBatch({ scanned: old.length, deleted })
      return {
        deleted,
        horizon,
        last: old.length > 0 ? old[old.length - 1].server_version : after,
        done: reachedNew || scanned.length < batch
      }
    }))

  const run = Effect.fnUntraced(function*(
    input: unknown,
    step: typeof changeLogBatch,
    options: GcOptions | undefined
  ) {
    const request = yield* decodeRequest(input)
    const { workspaceId } = request.scope
    const cutoff = (yield* nowMillis) - request.retentionSeconds * 1000
    const onBatch = options?.onBatch ?? (() => Effect.void)
    const expiredCursors = yield* expire(workspaceId, cutoff)
    let deleted = 0
    let after = 0
    for (;;) {
      const result = yield* step(workspaceId, cutoff, after, onBatch)
      deleted += result.deleted
      after = result.last
      if (result.done) return { workspaceId, expiredCursors, deleted, horizon: result.horizon } satisfies GcReport
    }
  })

  /** Deletes superseded change-log entries older than the window that no live snapshot chain needs. */
  const gcChangeLog = (input: unknown, options?: GcOptions) =>
    run(input, changeLogBatch, options).pipe(Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.gcChangeLog"))

  /** Deletes tombstones older than the window: stale ones, and (forgetting them) old deletes every cursor has passed. */
  const gcTombstones = (input: unknown, options?: GcOptions) =>
    run(input, tombstoneBatch, options).pipe(Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.gcTombstones"))

  return { gcChangeLog, gcTombstones }
})
