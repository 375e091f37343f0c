/**
 * The OR3 provider admin adapter for sync (`kind: 'sync'`, contract 4.4): what the admin page
 * shows about the database and the maintenance passes, and the two GC actions an owner can run
 * on the active workspace.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { appliedMigrations } from "../layers/Migrations.js"
import { isSqliteVersionBefore, MIN_SAFE_WAL_VERSION, SqliteInfo, type SqliteInfoShape } from "../layers/Sqlite.js"
import type { AdminWarning, ProviderAdminAction, ProviderAdminAdapter, SyncMaintenanceState } from "../or3/types.js"
import { SyncGateway } from "../services/SyncGateway.js"
import { maintenanceRetentionSeconds, SyncMaintenance } from "../services/SyncMaintenance.js"
import { h3Error } from "./H3Errors.js"
import type { MaintenanceTracker } from "./MaintenanceTracker.js"
import type { Runner } from "./Runner.js"
import { SQLITE_PROVIDER_ID } from "./SyncGatewayAdapter.js"

/** The window admin GC actions use: the maintenance passes' fixed 365 days. */
export const ADMIN_GC_RETENTION_SECONDS = maintenanceRetentionSeconds

const gcActions = {
  "sync.gc-change-log": {
    method: "gcChangeLog",
    action: {
      id: "sync.gc-change-log",
      label: "Collect sync change log",
      description:
        "Deletes change-log entries older than 365 days that every device has already pulled, in the active workspace.",
      danger: true
    }
  },
  "sync.gc-tombstones": {
    method: "gcTombstones",
    action: {
      id: "sync.gc-tombstones",
      label: "Collect sync tombstones",
      description: "Deletes tombstones older than 365 days whose delete the row still records, in the active workspace.",
      danger: true
    }
  }
} as const satisfies Record<string, { method: "gcChangeLog" | "gcTombstones"; action: ProviderAdminAction }>

type GcActionId = keyof typeof gcActions

const isGcActionId = (actionId: string): actionId is GcActionId => Object.hasOwn(gcActions, actionId)

/**
 * Warnings for the admin page. Only `level: 'error'` marks the provider unavailable in the host's
 * health view, and none of these stops the provider from serving requests, so all are warnings:
 * an in-memory database loses everything on restart; an old SQLite in WAL mode risks corruption
 * on a WAL reset (a latent risk, not an outage); a failed maintenance pass never makes the
 * provider unavailable (contract 4.1).
 */
export const statusWarnings = (info: SqliteInfoShape, maintenance: SyncMaintenanceState): Array<AdminWarning> => {
  const warnings: Array<AdminWarning> = []
  if (info.settings.inMemory) {
    warnings.push({
      level: "warning",
      message:
        "The SQLite database is in memory (:memory:): every user, workspace and sync change is lost on restart. Set OR3_SQLITE_DB_PATH to a file."
    })
  }
  if (info.settings.journalMode === "WAL" && isSqliteVersionBefore(info.sqliteVersion, MIN_SAFE_WAL_VERSION)) {
    warnings.push({
      level: "warning",
      message: `SQLite ${info.sqliteVersion} is older than ${MIN_SAFE_WAL_VERSION}, which fixes a WAL-reset corruption bug. Upgrade better-sqlite3, or set OR3_SQLITE_PRAGMA_JOURNAL_MODE=DELETE.`
    })
  }
  if (maintenance.state === "failed") {
    warnings.push({
      level: "warning",
      message: `The last sync maintenance pass failed${
        maintenance.lastError === undefined ? "" : `: ${maintenance.lastError}`
      }. Sync keeps working; history is collected on the next successful pass.`
    })
  }
  return warnings
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

export const makeSyncAdminAdapter = (
  run: Runner<SqliteInfo | SqlClient.SqlClient | SyncMaintenance | SyncGateway>,
  maintenance: MaintenanceTracker
): Required<ProviderAdminAdapter> => ({
  id: SQLITE_PROVIDER_ID,
  kind: "sync",

  getStatus: async () => {
    await maintenance.flush()
    const { applied, info, stored } = await run(
      "SyncAdmin.getStatus",
      Effect.all({
        info: SqliteInfo,
        applied: appliedMigrations,
        stored: Effect.flatMap(SyncMaintenance, (service) => service.get)
      })
    )
    maintenance.updateBacklog(stored.backlog)
    const state = maintenance.state()
    const latest = applied.at(-1)
    return {
      details: {
        driver: info.driver,
        dbPath: info.settings.path,
        inMemory: info.settings.inMemory,
        journalMode: info.settings.journalMode,
        synchronous: info.settings.synchronous,
        sqliteVersion: info.sqliteVersion,
        schemaVersion: latest?.migration_id ?? 0,
        latestMigration: latest === undefined ? null : `${String(latest.migration_id).padStart(4, "0")}_${latest.name}`,
        maintenance: state
      },
      warnings: statusWarnings(info, state),
      actions: Object.values(gcActions).map(({ action }) => ({ ...action }))
    }
  },

  runAction: async (_event, actionId, _payload, ctx) => {
    if (!isGcActionId(actionId)) throw h3Error(400, "Unknown action", { actionId })
    const workspaceId = ctx?.session?.workspace?.id
    if (typeof workspaceId !== "string" || workspaceId.trim() === "") throw h3Error(400, "Workspace not resolved")
    const { method } = gcActions[actionId]
    const retentionSeconds = ADMIN_GC_RETENTION_SECONDS

    maintenance.begin()
    let lastRun: string
    try {
      lastRun = await run(
        `SyncAdmin.${actionId}`,
        Effect.flatMap(SyncGateway, (gateway) => gateway[method]({ scope: { workspaceId }, retentionSeconds })).pipe(
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.map((now) => new Date(now).toISOString())
        )
      )
    } catch (error) {
      maintenance.fail(messageOf(error))
      throw error
    }
    maintenance.complete(lastRun)
    await maintenance.flush()
    return {
      ok: true,
      actionId,
      workspaceId,
      retentionSeconds,
      lastRun,
      backlog: maintenance.state().backlog ?? 0
    }
  }
})
