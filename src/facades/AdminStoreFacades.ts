/**
 * The OR3 admin stores and the deployment-admin checker over their services. Like every facade,
 * each method runs one service program and maps its typed errors: `InvalidInput` → 400,
 * `NotFound` → 404, `LastWorkspaceOwner` → 409 with "last workspace owner" in its message (the
 * text newer hosts match), anything else → a generic 500.
 */
import * as Effect from "effect/Effect"
import type {
  AdminStoreCapabilities,
  AdminUserStore as HostAdminUserStore,
  DeploymentAdminChecker,
  WorkspaceAccessStore as HostWorkspaceAccessStore,
  WorkspaceSettingsStore as HostWorkspaceSettingsStore
} from "../or3/types.js"
import { AdminUserStore } from "../services/AdminUserStore.js"
import { WorkspaceAccessStore } from "../services/WorkspaceAccessStore.js"
import { WorkspaceSettingsStore } from "../services/WorkspaceSettingsStore.js"
import { asMutable, type Runner, serviceCaller } from "./Runner.js"

/**
 * Every flag is true: the stores need no user session, search users, list and manage every
 * workspace, and the grants reach the host through the registered deployment-admin checker.
 */
export const ADMIN_STORE_CAPABILITIES = {
  supportsServerSideAdmin: true,
  supportsUserSearch: true,
  supportsWorkspaceList: true,
  supportsWorkspaceManagement: true,
  supportsDeploymentAdminGrants: true
} as const satisfies AdminStoreCapabilities

/** The settings store with the optional `compareAndSet` implemented. */
export type SqliteWorkspaceSettingsStore = Required<HostWorkspaceSettingsStore>

export const makeWorkspaceAccessStoreFacade = (run: Runner<WorkspaceAccessStore>): HostWorkspaceAccessStore => {
  const call = serviceCaller(run, WorkspaceAccessStore, "WorkspaceAccessStore")
  return {
    listMembers: (input) => call("listMembers", (store) => Effect.map(store.listMembers(input), asMutable)),
    upsertMember: (input) => call("upsertMember", (store) => store.upsertMember(input)),
    setMemberRole: (input) => call("setMemberRole", (store) => store.setMemberRole(input)),
    removeMember: (input) => call("removeMember", (store) => store.removeMember(input)),
    listWorkspaces: (input) =>
      call("listWorkspaces", (store) =>
        Effect.map(store.listWorkspaces(input), (page) => ({ items: asMutable(page.items), total: page.total }))),
    getWorkspace: (input) => call("getWorkspace", (store) => store.getWorkspace(input)),
    createWorkspace: (input) => call("createWorkspace", (store) => store.createWorkspace(input)),
    softDeleteWorkspace: (input) => call("softDeleteWorkspace", (store) => store.softDeleteWorkspace(input)),
    restoreWorkspace: (input) => call("restoreWorkspace", (store) => store.restoreWorkspace(input)),
    searchUsers: (input) => call("searchUsers", (store) => Effect.map(store.searchUsers(input), asMutable))
  }
}

export const makeWorkspaceSettingsStoreFacade = (run: Runner<WorkspaceSettingsStore>): SqliteWorkspaceSettingsStore => {
  const call = serviceCaller(run, WorkspaceSettingsStore, "WorkspaceSettingsStore")
  return {
    get: (workspaceId, key) => call("get", (store) => store.get(workspaceId, key)),
    set: (workspaceId, key, value) => call("set", (store) => store.set(workspaceId, key, value)),
    compareAndSet: (workspaceId, key, expected, next) =>
      call("compareAndSet", (store) => store.compareAndSet(workspaceId, key, expected, next))
  }
}

export const makeAdminUserStoreFacade = (run: Runner<AdminUserStore>): HostAdminUserStore => {
  const call = serviceCaller(run, AdminUserStore, "AdminUserStore")
  return {
    listAdmins: () => call("listAdmins", (store) => Effect.map(store.listAdmins, asMutable)),
    grantAdmin: (input) => call("grantAdmin", (store) => store.grantAdmin(input)),
    revokeAdmin: (input) => call("revokeAdmin", (store) => store.revokeAdmin(input)),
    isAdmin: (input) => call("isAdmin", (store) => store.isAdmin(input)),
    searchUsers: (input) => call("searchUsers", (store) => Effect.map(store.searchUsers(input), asMutable))
  }
}

/**
 * The host asks with the auth provider's user id and provider name; the grants hold user ids, so
 * the service maps one to the other through `auth_accounts`. Nothing is cached here: the host
 * caches the answer with the session (60 s by default).
 */
export const makeDeploymentAdminChecker = (run: Runner<AdminUserStore>): DeploymentAdminChecker => {
  const call = serviceCaller(run, AdminUserStore, "AdminUserStore")
  return {
    checkDeploymentAdmin: (providerUserId, provider) =>
      call("isAdminIdentity", (store) => store.isAdminIdentity({ provider, providerUserId }))
  }
}
