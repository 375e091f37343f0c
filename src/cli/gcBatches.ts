/**
 * What `gc` needs to see of the GC service while it runs: each batch as it commits, to count rows
 * for the progress bar (a bar per workspace stays at 0% on one big workspace) and to stop between
 * batches when interrupted.
 *
 * The service has no per-batch hook yet. The one asked of it is an option of `gcChangeLog` and
 * `gcTombstones`: `onBatch: (batch: { scanned: number; deleted: number }) => Effect<void>`, called
 * after each batch's COMMIT. Until it exists, `observeBatches` gets the same facts from outside:
 * the service runs each batch as one `withTransaction` on the SqlClient it was built with, and a
 * batch's result carries `deleted` and `last` (the version it scanned up to). The CLI builds its
 * gateway on a SqlClient that reports those results; rows scanned are the ones deleted plus the
 * ones still in the batch's version range. Replace this file's wiring with `onBatch` once the
 * service offers it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { SyncGateway } from "../services/SyncGateway.js"

/** One committed GC batch, as the CLI counts it. */
export interface GcBatch {
  readonly scanned: number
  readonly deleted: number
}

/** Which phase of which workspace runs now (set by the command before each service call). */
export interface GcPhase {
  readonly workspaceId: string
  readonly table: "change_log" | "tombstones"
  /** Version the previous batch scanned up to. */
  after: number
  readonly onBatch: (batch: GcBatch) => Effect.Effect<void>
}

/**
 * `OR3_CLI_TEST_GC_BATCH_DELAY_MS`: a test knob. Each batch waits this long before its COMMIT, so
 * a test can interrupt one mid-batch on a small database and see it rolled back.
 */
const testDelay = Number(process.env.OR3_CLI_TEST_GC_BATCH_DELAY_MS ?? 0)

const batchResult = (value: unknown): { deleted: number; last: number } | undefined => {
  const v = value as { deleted?: unknown; last?: unknown } | null
  return typeof v?.deleted === "number" && typeof v.last === "number" ? { deleted: v.deleted, last: v.last } : undefined
}

/** `sql`, with every top-level transaction's result reported to the current phase. */
const observeBatches = (sql: SqlClient.SqlClient, phase: () => GcPhase | undefined): SqlClient.SqlClient => {
  const withTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    sql.withTransaction(testDelay > 0 ? Effect.zipLeft(effect, Effect.sleep(testDelay)) : effect).pipe(
      Effect.tap((value) => {
        const current = phase()
        const result = batchResult(value)
        if (current === undefined || result === undefined) return Effect.void
        const from = current.after
        current.after = result.last
        // The rows of the batch's range that are still there were scanned and kept.
        return Effect.flatMap(
          current.table === "change_log"
            ? sql<{ n: number }>`SELECT count(*) AS n FROM change_log
                WHERE workspace_id = ${current.workspaceId} AND server_version > ${from} AND server_version <= ${result.last}`
            : sql<{ n: number }>`SELECT count(*) AS n FROM tombstones
                WHERE workspace_id = ${current.workspaceId} AND server_version > ${from} AND server_version <= ${result.last}`,
          ([kept]) => current.onBatch({ scanned: result.deleted + kept.n, deleted: result.deleted })
        ).pipe(Effect.orDie)
      })
    )
  return new Proxy(sql, {
    get: (target, key, receiver) => (key === "withTransaction" ? withTransaction : Reflect.get(target, key, receiver))
  })
}

/** The gateway `gc` runs, reporting each batch to whatever phase `phase` returns. */
export const observedGateway = (phase: () => GcPhase | undefined) =>
  SyncGateway.Default.pipe(
    Layer.provide(Layer.effect(SqlClient.SqlClient, Effect.map(SqlClient.SqlClient, (sql) => observeBatches(sql, phase))))
  )
