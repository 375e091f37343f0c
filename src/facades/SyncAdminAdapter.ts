/**
 * The OR3 provider admin adapter for sync (`kind: 'sync'`, contract 4.4): what the admin page
 * shows about the database and the maintenance passes, and the two GC actions: a workspace admin
 * collects their session's workspace, the super admin one named workspace or all of them
 * (`./AdminGcTarget.ts`).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { appliedMigrations, migrationKey } from "../layers/Migrations.js"
import { isSqliteVersionBefore, MIN_SAFE_WAL_VERSION, SqliteInfo, type SqliteInfoShape } from "../layers/Sqlite.js"
import type { AdminWarning, ProviderAdminAction, ProviderAdminAdapter, SyncMaintenanceState } from "../or3/types.js"
import { type GcReport, SyncGateway } from "../services/SyncGateway.js"
import { maintenanceRetentionSeconds, SyncMaintenance } from "../services/SyncMaintenance.js"
import { WorkspaceAccessStore } from "../services/WorkspaceAccessStore.js"
import { type GcTarget, resolveGcTarget } from "./AdminGcTarget.js"
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
        "Deletes change-log entries older than 365 days that every device has already pulled: in your workspace, or (super admin) in payload.workspaceId or every workspace.",
      danger: true
    }
  },
  "sync.gc-tombstones": {
    method: "gcTombstones",
    action: {
      id: "sync.gc-tombstones",
      label: "Collect sync tombstones",
      description:
        "Deletes tombstones older than 365 days whose delete the row still records: in your workspace, or (super admin) in payload.workspaceId or every workspace.",
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

/** What a GC action returns: per workspace what GC removed, and the totals. */
export interface GcActionResult {
  readonly ok: true
  readonly actionId: string
  /** `workspace`: one workspace (`workspaceId`); `all`: every live workspace (super admin). */
  readonly scope: "workspace" | "all"
  readonly workspaceId?: string
  readonly retentionSeconds: number
  readonly lastRun: string
  readonly backlog: number
  readonly workspaces: ReadonlyArray<GcReport>
  readonly deleted: number
  readonly expiredCursors: number
}

export const makeSyncAdminAdapter = (
  run: Runner<SqliteInfo | SqlClient.SqlClient | SyncMaintenance | SyncGateway | WorkspaceAccessStore>,
  maintenance: MaintenanceTracker
): Required<ProviderAdminAdapter> => {
  /** A workspace the super admin names must exist (deleted ones included): else 404. */
  const requireNamed = (target: GcTarget) =>
    target.kind === "workspace" && target.named
      ? run(
        "SyncAdmin.resolveTarget",
        Effect.flatMap(WorkspaceAccessStore, (store) => store.requireWorkspace({ workspaceId: target.workspaceId }))
      )
      : Promise.resolve()

  /** GC of each target workspace in turn, each in its own bounded batches; the reports in order. */
  const collect = (actionId: GcActionId, target: GcTarget) =>
    run(
      `SyncAdmin.${actionId}`,
      Effect.gen(function*() {
        const gateway = yield* SyncGateway
        const ids = target.kind === "all" ? yield* gateway.listWorkspaceIds : [target.workspaceId]
        const { method } = gcActions[actionId]
        const reports: Array<GcReport> = []
        for (const workspaceId of ids) {
          reports.push(yield* gateway[method]({ scope: { workspaceId }, retentionSeconds: ADMIN_GC_RETENTION_SECONDS }))
        }
        const now = yield* Clock.currentTimeMillis
        return { reports, lastRun: new Date(now).toISOString() }
      })
    )

  return {
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
          latestMigration: latest === undefined ? null : migrationKey(latest.migration_id, latest.name),
          maintenance: state
        },
        warnings: statusWarnings(info, state),
        actions: Object.values(gcActions).map(({ action }) => ({ ...action }))
      }
    },

    /**
     * Who may collect what is settled before the pass starts, so a refused or mistargeted call
     * (400/403/404) never marks the maintenance state failed; a failing GC does, and rethrows.
     */
    runAction: async (event, actionId, payload, ctx): Promise<GcActionResult> => {
      if (!isGcActionId(actionId)) throw h3Error(400, "Unknown action", { actionId })
      const target = resolveGcTarget(event, payload, ctx?.session)
      await requireNamed(target)

      maintenance.begin()
      let collected: { reports: Array<GcReport>; lastRun: string }
      try {
        collected = await collect(actionId, target)
      } catch (error) {
        maintenance.fail(messageOf(error))
        throw error
      }
      maintenance.complete(collected.lastRun)
      await maintenance.flush()
      const { lastRun, reports } = collected
      return {
        ok: true,
        actionId,
        scope: target.kind,
        ...(target.kind === "workspace" ? { workspaceId: target.workspaceId } : {}),
        retentionSeconds: ADMIN_GC_RETENTION_SECONDS,
        lastRun,
        backlog: maintenance.state().backlog ?? 0,
        workspaces: reports,
        deleted: reports.reduce((sum, report) => sum + report.deleted, 0),
        expiredCursors: reports.reduce((sum, report) => sum + report.expiredCursors, 0)
      }
    }
  }
}
