/**
 * `or3-sqlite status`: what the database runs on and what each workspace holds. Read-only, and a
 * handful of grouped statements whatever the number of workspaces (each count walks an index whose
 * first column is `workspace_id`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import { appliedMigrations, migrationKey, newerOf, pendingOf } from "../layers/Migrations.js"
import { SqliteInfo } from "../layers/Sqlite.js"
import { SyncedTables, syncedTableNames } from "../schema/tables.js"
import type { Target } from "./CliTarget.js"
import { readPragmas } from "./pragmas.js"

export const STATUS_PRAGMAS = [
  "journal_mode",
  "synchronous",
  "foreign_keys",
  "busy_timeout",
  "cache_size",
  "page_size",
  "page_count",
  "freelist_count",
  "auto_vacuum",
  "wal_autocheckpoint"
] as const

export interface CursorStatus {
  readonly deviceId: string
  readonly userId: string
  readonly version: number
  /** Versions the device has not confirmed yet (head - version). */
  readonly behind: number
  readonly updatedAt: string
}

export interface WorkspaceStatus {
  readonly workspaceId: string
  readonly name: string | null
  /** True when the workspace was soft-deleted (or has sync state but no workspace row). */
  readonly deleted: boolean
  readonly head: number
  readonly horizon: number
  readonly changeLog: number
  readonly tombstones: number
  /** Materialized rows per synced table: live and soft-deleted. */
  readonly rows: Record<string, { readonly live: number; readonly deleted: number }>
  readonly cursors: ReadonlyArray<CursorStatus>
}

export interface StatusReport {
  readonly database: {
    readonly driver: string
    readonly path: string
    readonly inMemory: boolean
    readonly sqliteVersion: string
    readonly fileBytes: number | null
    readonly walBytes: number | null
  }
  readonly schema: {
    readonly version: number
    readonly latest: string | null
    readonly pending: ReadonlyArray<string>
    /** Ledger entries this version does not know (written by a newer release). */
    readonly unknown: ReadonlyArray<string>
  }
  readonly pragmas: Readonly<Record<string, unknown>>
  readonly workspaces: ReadonlyArray<WorkspaceStatus>
}

const fileSize = (path: string) => {
  try {
    return Fs.statSync(path).size
  } catch {
    return null
  }
}

/** Gathers the report of the database `target` names. */
export const gatherStatus = (target: Target) =>
  Effect.gen(function*() {
    const info = yield* SqliteInfo
    const pragmas = yield* readPragmas(STATUS_PRAGMAS, target.kind)
    const local = target.kind === "file"
    const applied = yield* appliedMigrations
    const latest = applied.at(-1)
    const report: StatusReport = {
      database: {
        driver: target.driver,
        path: info.settings.path,
        inMemory: info.settings.inMemory,
        sqliteVersion: info.sqliteVersion,
        fileBytes: local ? fileSize(info.settings.path) : null,
        walBytes: local ? fileSize(`${info.settings.path}-wal`) : null
      },
      schema: {
        version: latest?.migration_id ?? 0,
        latest: latest === undefined ? null : migrationKey(latest.migration_id, latest.name),
        pending: pendingOf(applied),
        unknown: newerOf(applied)
      },
      pragmas,
      workspaces: applied.length === 0 ? [] : yield* workspaceStatus
    }
    return report
  })

const workspaceStatus = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const heads = yield* sql<{ id: string; name: string | null; deleted: number | null; head: number | null; horizon: number | null }>`
    SELECT ids.id, w.name, w.deleted, h.head, h.horizon
    FROM (SELECT id FROM workspaces UNION SELECT workspace_id FROM sync_heads) ids
    LEFT JOIN workspaces w ON w.id = ids.id
    LEFT JOIN sync_heads h ON h.workspace_id = ids.id
    ORDER BY ids.id`
  const countBy = (rows: ReadonlyArray<{ workspace_id: string; n: number }>) =>
    new Map(rows.map((row) => [row.workspace_id, row.n]))
  const logCounts = countBy(
    yield* sql<{ workspace_id: string; n: number }>`SELECT workspace_id, count(*) AS n FROM change_log GROUP BY workspace_id`
  )
  const tombCounts = countBy(
    yield* sql<{ workspace_id: string; n: number }>`SELECT workspace_id, count(*) AS n FROM tombstones GROUP BY workspace_id`
  )
  const rowCounts = new Map<string, Record<string, { live: number; deleted: number }>>()
  for (const table of syncedTableNames) {
    const rows = yield* sql<{ workspace_id: string; n: number; d: number }>`
      SELECT workspace_id, count(*) AS n, total(deleted) AS d FROM ${sql(SyncedTables[table].sqlTable)} GROUP BY workspace_id`
    for (const row of rows) {
      const counts = rowCounts.get(row.workspace_id) ?? {}
      counts[table] = { live: row.n - row.d, deleted: row.d }
      rowCounts.set(row.workspace_id, counts)
    }
  }
  const cursors = yield* sql<{ workspace_id: string; device_id: string; user_id: string; version: number; updated_at: number }>`
    SELECT workspace_id, device_id, user_id, version, updated_at FROM device_cursors ORDER BY workspace_id, version, device_id`
  return heads.map((row): WorkspaceStatus => {
    const head = row.head ?? 0
    const counts = rowCounts.get(row.id) ?? {}
    return {
      workspaceId: row.id,
      name: row.name,
      deleted: row.deleted === null || row.deleted === 1,
      head,
      horizon: row.horizon ?? 0,
      changeLog: logCounts.get(row.id) ?? 0,
      tombstones: tombCounts.get(row.id) ?? 0,
      rows: Object.fromEntries(syncedTableNames.map((table) => [table, counts[table] ?? { live: 0, deleted: 0 }])),
      cursors: cursors
        .filter((cursor) => cursor.workspace_id === row.id)
        .map((cursor) => ({
          deviceId: cursor.device_id,
          userId: cursor.user_id,
          version: cursor.version,
          behind: Math.max(0, head - cursor.version),
          updatedAt: new Date(cursor.updated_at).toISOString()
        }))
    }
  })
})
