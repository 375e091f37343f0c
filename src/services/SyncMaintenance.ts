/**
 * SyncMaintenance: the state of the host's sync-history maintenance passes (contract 4.1/4.6),
 * kept in the `sync_maintenance` table so it survives restarts, with a backlog count that does not
 * scan the whole change log.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Limits } from "../schema/limits.js"
import { nowMillis } from "./Ids.js"
import { onTestDatabase } from "./serviceLayers.js"

export interface SyncMaintenanceState {
  readonly enabled: boolean
  readonly state: "idle" | "running" | "failed"
  readonly lastRun?: string
  readonly lastError?: string
  /** Superseded change-log entries older than the maintenance retention window: what history GC may delete. */
  readonly backlog?: number
}

export interface SyncMaintenanceShape {
  /** The persisted state. */
  readonly get: Effect.Effect<SyncMaintenanceState>
  /** Marks a pass as running. */
  readonly begin: Effect.Effect<void>
  /** Marks a pass as done at `lastRun` (ISO time) and recomputes the backlog. */
  readonly complete: (lastRun: string) => Effect.Effect<void>
  /** Marks a pass as failed; a failed pass never makes the provider unavailable. */
  readonly fail: (error: string) => Effect.Effect<void>
}

/**
 * The window of the maintenance passes, seconds: the host's longest retention (365 days), the
 * fixed window the existing provider uses. The backlog counts the superseded entries older than it.
 */
export const maintenanceRetentionSeconds = Limits.maxRetentionSeconds

interface StateRow {
  state: "idle" | "running" | "failed"
  last_run: string | null
  last_error: string | null
  backlog: number | null
}

export const make: Effect.Effect<SyncMaintenanceShape, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  /** The one state row, created idle on first use (a fresh database has never run a pass). */
  const ensureRow = Effect.flatMap(nowMillis, (now) =>
    sql`INSERT INTO sync_maintenance (id, state, updated_at) VALUES (1, 'idle', ${now}) ON CONFLICT (id) DO NOTHING`)

  const get = Effect.gen(function*() {
    yield* ensureRow
    const [row] = yield* sql<StateRow>`SELECT state, last_run, last_error, backlog FROM sync_maintenance WHERE id = 1`
    return {
      enabled: true,
      state: row.state,
      ...(row.last_run === null ? {} : { lastRun: row.last_run }),
      ...(row.last_error === null ? {} : { lastError: row.last_error }),
      ...(row.backlog === null ? {} : { backlog: row.backlog })
    } satisfies SyncMaintenanceState
  }).pipe(Effect.orDie, Effect.withSpan("SyncMaintenance.get"))

  /** A new pass clears the previous pass's error (what the host's in-memory state does too). */
  const begin = Effect.gen(function*() {
    yield* ensureRow
    const now = yield* nowMillis
    yield* sql`UPDATE sync_maintenance SET state = 'running', last_error = NULL, updated_at = ${now} WHERE id = 1`
  }).pipe(Effect.orDie, Effect.withSpan("SyncMaintenance.begin"))

  /**
   * The backlog: what history GC may delete, i.e. superseded change-log entries of every workspace
   * older than the maintenance window (GC keeps every key's current winner, docs/sync.md; entries a
   * live snapshot still pins are counted too). An index range (`change_log_created` for the age, or
   * `change_log_superseded`), never a scan of the log.
   */
  const complete = Effect.fn("SyncMaintenance.complete")(function*(lastRun: string) {
    yield* ensureRow
    const now = yield* nowMillis
    const cutoff = now - maintenanceRetentionSeconds * 1000
    yield* sql`
      UPDATE sync_maintenance SET state = 'idle', last_run = ${lastRun}, last_error = NULL,
        backlog = (SELECT count(*) FROM change_log WHERE superseded = 1 AND created_at < ${cutoff}), updated_at = ${now}
      WHERE id = 1`
  }, Effect.orDie)

  const fail = Effect.fn("SyncMaintenance.fail")(function*(error: string) {
    yield* ensureRow
    const now = yield* nowMillis
    yield* sql`UPDATE sync_maintenance SET state = 'failed', last_error = ${error}, updated_at = ${now} WHERE id = 1`
  }, Effect.orDie)

  return { get, begin, complete, fail } satisfies SyncMaintenanceShape
})

export class SyncMaintenance extends Context.Tag("or3-provider-sqlite/services/SyncMaintenance")<
  SyncMaintenance,
  SyncMaintenanceShape
>() {
  /** The state in the database of the (migrated) SqlClient in context. */
  static readonly Default: Layer.Layer<SyncMaintenance, never, SqlClient.SqlClient> = Layer.effect(SyncMaintenance, make)

  /** A private, migrated in-memory database; the SqlClient is exposed too. */
  static readonly Test: Layer.Layer<SyncMaintenance | SqlClient.SqlClient> = onTestDatabase(
    SyncMaintenance.Default
  )
}
