/**
 * The provider as the OR3 host consumes it: one ManagedRuntime over one migrated SQLite
 * connection and the three services, and the Promise facades that run on it. Built once per Nitro
 * app (or CLI process) and disposed when it closes.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type { SqliteInfo } from "../layers/Sqlite.js"
import type {
  AdminUserStore as HostAdminUserStore,
  DeploymentAdminChecker,
  ProviderAdminAdapter,
  WorkspaceAccessStore as HostWorkspaceAccessStore
} from "../or3/types.js"
import type { AdminUserStore } from "../services/AdminUserStore.js"
import type { AuthWorkspaceStore } from "../services/AuthWorkspaceStore.js"
import type { SyncGateway } from "../services/SyncGateway.js"
import { SyncMaintenance } from "../services/SyncMaintenance.js"
import type { WorkspaceAccessStore } from "../services/WorkspaceAccessStore.js"
import type { WorkspaceSettingsStore } from "../services/WorkspaceSettingsStore.js"
import {
  makeAdminUserStoreFacade,
  makeDeploymentAdminChecker,
  makeWorkspaceAccessStoreFacade,
  makeWorkspaceSettingsStoreFacade,
  type SqliteWorkspaceSettingsStore
} from "./AdminStoreFacades.js"
import { makeAuthWorkspaceStoreFacade, type SqliteAuthWorkspaceStore } from "./AuthWorkspaceStoreFacade.js"
import { makeMaintenanceTracker } from "./MaintenanceTracker.js"
import { makeRunner } from "./Runner.js"
import { makeSyncAdminAdapter } from "./SyncAdminAdapter.js"
import { makeSyncGatewayAdapter, type SqliteSyncGatewayAdapter } from "./SyncGatewayAdapter.js"

/** What the facades need from the runtime. */
export type ProviderServices =
  | AuthWorkspaceStore
  | SyncGateway
  | SyncMaintenance
  | WorkspaceAccessStore
  | WorkspaceSettingsStore
  | AdminUserStore
  | SqlClient.SqlClient
  | SqliteInfo

export interface SqliteProvider {
  readonly authWorkspaceStore: SqliteAuthWorkspaceStore
  readonly syncGatewayAdapter: SqliteSyncGatewayAdapter
  readonly syncAdminAdapter: Required<ProviderAdminAdapter>
  /** The admin dashboard's stores (registered with the host's admin store registry). */
  readonly workspaceAccessStore: HostWorkspaceAccessStore
  readonly workspaceSettingsStore: SqliteWorkspaceSettingsStore
  readonly adminUserStore: HostAdminUserStore
  /** Answers from the admin grants (registered with the host's deployment-admin registry). */
  readonly deploymentAdminChecker: DeploymentAdminChecker
  /** Waits for pending maintenance writes, then closes the runtime and the connection. Idempotent. */
  readonly dispose: () => Promise<void>
}

/**
 * The error a failed start rejects with: the typed failure itself (ConfigInvalid, MigrationFailed,
 * SchemaTooNew carry an operator-facing message), or the squashed defect.
 */
const startupError = (cause: Cause.Cause<unknown>): unknown => {
  const squashed = Cause.squash(cause)
  return squashed instanceof Error ? squashed : new Error(String(squashed))
}

/**
 * Builds the runtime over `layer`, forces it (opening the database and running migrations), loads
 * the maintenance state, and returns the facades. A failed start rejects with the start-up error
 * and leaves nothing open.
 */
export const makeSqliteProvider = async <E>(layer: Layer.Layer<ProviderServices, E>): Promise<SqliteProvider> => {
  const runtime = ManagedRuntime.make(layer)
  const started = await runtime.runPromiseExit(
    Effect.flatMap(SyncMaintenance, (service) => service.get).pipe(Effect.withSpan("or3.SqliteProvider.start"))
  )
  if (Exit.isFailure(started)) {
    await runtime.dispose()
    throw startupError(started.cause)
  }

  const run = makeRunner(runtime)
  const maintenance = makeMaintenanceTracker(runtime, started.value)
  let disposed: Promise<void> | undefined

  return {
    authWorkspaceStore: makeAuthWorkspaceStoreFacade(run),
    syncGatewayAdapter: makeSyncGatewayAdapter(run, maintenance),
    syncAdminAdapter: makeSyncAdminAdapter(run, maintenance),
    workspaceAccessStore: makeWorkspaceAccessStoreFacade(run),
    workspaceSettingsStore: makeWorkspaceSettingsStoreFacade(run),
    adminUserStore: makeAdminUserStoreFacade(run),
    deploymentAdminChecker: makeDeploymentAdminChecker(run),
    dispose: () =>
      (disposed ??= maintenance
        .flush()
        .catch(() => undefined)
        .then(() => runtime.dispose()))
  }
}
