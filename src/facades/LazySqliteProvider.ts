/**
 * Facades that exist before the provider has started. The host's registries take factories that
 * must return an adapter synchronously, and its strict validator checks the registrations right
 * after the plugins ran, while opening the database and migrating is asynchronous. So the Nitro
 * plugin registers these: each method awaits the starting provider, then delegates.
 */
import type {
  AdminUserStore,
  DeploymentAdminChecker,
  ProviderAdminAdapter,
  SyncMaintenanceState,
  WorkspaceAccessStore
} from "../or3/types.js"
import type { SqliteWorkspaceSettingsStore } from "./AdminStoreFacades.js"
import type { SqliteAuthWorkspaceStore } from "./AuthWorkspaceStoreFacade.js"
import { h3Error } from "./H3Errors.js"
import type { SqliteProvider } from "./SqliteProvider.js"
import { SQLITE_PROVIDER_ID, type SqliteSyncGatewayAdapter, SYNC_CAPABILITIES } from "./SyncGatewayAdapter.js"

export interface LazySqliteProvider {
  /** The provider once started; rejects with the start-up error. */
  readonly ready: Promise<SqliteProvider>
  readonly authWorkspaceStore: SqliteAuthWorkspaceStore
  readonly syncGatewayAdapter: SqliteSyncGatewayAdapter
  readonly syncAdminAdapter: Required<ProviderAdminAdapter>
  readonly workspaceAccessStore: WorkspaceAccessStore
  readonly workspaceSettingsStore: SqliteWorkspaceSettingsStore
  readonly adminUserStore: AdminUserStore
  readonly deploymentAdminChecker: DeploymentAdminChecker
  /** Disposes the provider once it has started (a failed start has nothing to dispose). */
  readonly dispose: () => Promise<void>
}

/** What a call gets while the provider could not start: the cause is for the operator's log only. */
export const PROVIDER_UNAVAILABLE_MESSAGE = "SQLite provider unavailable"

export const createLazySqliteProvider = (starting: Promise<SqliteProvider>): LazySqliteProvider => {
  let started: SqliteProvider | undefined
  // Handled here so a failed start is never an unhandled rejection; the plugin logs it.
  const ready = starting.then((provider) => (started = provider))
  ready.catch(() => undefined)

  const provider = () => ready.catch(() => Promise.reject(h3Error(503, PROVIDER_UNAVAILABLE_MESSAGE)))

  /** A method that waits for the provider, then calls the method `pick` selects. */
  const via =
    <A extends Array<unknown>, R>(pick: (provider: SqliteProvider) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      provider().then((p) => pick(p)(...args))

  // Maintenance hooks are synchronous: until the provider is up they act on a local state and
  // are replayed, in order, once it is.
  let early: SyncMaintenanceState = { enabled: true, state: "idle" }
  const hook = (local: (state: SyncMaintenanceState) => SyncMaintenanceState, call: (p: SqliteProvider) => void) => {
    if (started !== undefined) return call(started)
    early = local(early)
    ready.then(call, () => undefined)
  }

  return {
    ready,
    authWorkspaceStore: {
      getUser: via((p) => p.authWorkspaceStore.getUser),
      getOrCreateUser: via((p) => p.authWorkspaceStore.getOrCreateUser),
      getOrCreateDefaultWorkspace: via((p) => p.authWorkspaceStore.getOrCreateDefaultWorkspace),
      getWorkspaceRole: via((p) => p.authWorkspaceStore.getWorkspaceRole),
      listUserWorkspaces: via((p) => p.authWorkspaceStore.listUserWorkspaces),
      createWorkspace: via((p) => p.authWorkspaceStore.createWorkspace),
      updateWorkspace: via((p) => p.authWorkspaceStore.updateWorkspace),
      removeWorkspace: via((p) => p.authWorkspaceStore.removeWorkspace),
      setActiveWorkspace: via((p) => p.authWorkspaceStore.setActiveWorkspace),
      createInvite: via((p) => p.authWorkspaceStore.createInvite),
      listInvites: via((p) => p.authWorkspaceStore.listInvites),
      revokeInvite: via((p) => p.authWorkspaceStore.revokeInvite),
      consumeInvite: via((p) => p.authWorkspaceStore.consumeInvite),
      validateInvite: via((p) => p.authWorkspaceStore.validateInvite),
      acceptInviteAndProvisionUser: via((p) => p.authWorkspaceStore.acceptInviteAndProvisionUser)
    },
    syncGatewayAdapter: {
      id: SQLITE_PROVIDER_ID,
      capabilities: { ...SYNC_CAPABILITIES },
      pull: via((p) => p.syncGatewayAdapter.pull),
      push: via((p) => p.syncGatewayAdapter.push),
      updateCursor: via((p) => p.syncGatewayAdapter.updateCursor),
      snapshot: via((p) => p.syncGatewayAdapter.snapshot),
      gcTombstones: via((p) => p.syncGatewayAdapter.gcTombstones),
      gcChangeLog: via((p) => p.syncGatewayAdapter.gcChangeLog),
      listWorkspaceIds: via((p) => p.syncGatewayAdapter.listWorkspaceIds),
      getMaintenanceState: () =>
        started !== undefined ? started.syncGatewayAdapter.getMaintenanceState() : { ...early },
      beginMaintenanceRun: () =>
        hook(
          ({ lastError: _, ...state }) => ({ ...state, state: "running" }),
          (p) => p.syncGatewayAdapter.beginMaintenanceRun()
        ),
      completeMaintenanceRun: (input) =>
        hook(
          ({ lastError: _, ...state }) => ({ ...state, state: "idle", lastRun: input.lastRun }),
          (p) => p.syncGatewayAdapter.completeMaintenanceRun(input)
        ),
      failMaintenanceRun: (error) =>
        hook(
          (state) => ({ ...state, state: "failed", lastError: error }),
          (p) => p.syncGatewayAdapter.failMaintenanceRun(error)
        )
    },
    syncAdminAdapter: {
      id: SQLITE_PROVIDER_ID,
      kind: "sync",
      getStatus: via((p) => p.syncAdminAdapter.getStatus),
      runAction: via((p) => p.syncAdminAdapter.runAction)
    },
    workspaceAccessStore: {
      listMembers: via((p) => p.workspaceAccessStore.listMembers),
      upsertMember: via((p) => p.workspaceAccessStore.upsertMember),
      setMemberRole: via((p) => p.workspaceAccessStore.setMemberRole),
      removeMember: via((p) => p.workspaceAccessStore.removeMember),
      listWorkspaces: via((p) => p.workspaceAccessStore.listWorkspaces),
      getWorkspace: via((p) => p.workspaceAccessStore.getWorkspace),
      createWorkspace: via((p) => p.workspaceAccessStore.createWorkspace),
      softDeleteWorkspace: via((p) => p.workspaceAccessStore.softDeleteWorkspace),
      restoreWorkspace: via((p) => p.workspaceAccessStore.restoreWorkspace),
      searchUsers: via((p) => p.workspaceAccessStore.searchUsers)
    },
    workspaceSettingsStore: {
      get: via((p) => p.workspaceSettingsStore.get),
      set: via((p) => p.workspaceSettingsStore.set),
      compareAndSet: via((p) => p.workspaceSettingsStore.compareAndSet)
    },
    adminUserStore: {
      listAdmins: via((p) => p.adminUserStore.listAdmins),
      grantAdmin: via((p) => p.adminUserStore.grantAdmin),
      revokeAdmin: via((p) => p.adminUserStore.revokeAdmin),
      isAdmin: via((p) => p.adminUserStore.isAdmin),
      searchUsers: via((p) => p.adminUserStore.searchUsers)
    },
    deploymentAdminChecker: {
      checkDeploymentAdmin: via((p) => p.deploymentAdminChecker.checkDeploymentAdmin)
    },
    dispose: () => ready.then((p) => p.dispose(), () => undefined)
  }
}
