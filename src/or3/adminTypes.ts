/**
 * The OR3 host's admin interfaces this package implements (`server/admin/stores/types.ts`,
 * `server/admin/stores/registry.ts`, `server/auth/deployment-admin.ts`; see
 * `shared/or3-admin-contract.md`), declared so the package type-checks without the host.
 * Re-exported by `./types.ts`. Nothing here is runtime code.
 */
import type { H3Event } from "h3"
import type { WorkspaceRole } from "./types.js"

export interface WorkspaceMemberInfo {
  userId: string
  email?: string
  role: WorkspaceRole
}

/** Times are epoch milliseconds: the host's admin UI renders them with `new Date(n)`. */
export interface WorkspaceSummary {
  id: string
  name: string
  description?: string
  createdAt: number
  deleted: boolean
  deletedAt?: number
  ownerUserId?: string
  ownerEmail?: string
  memberCount: number
}

export interface AdminUserSearchResult {
  userId: string
  email?: string
  displayName?: string
}

export interface WorkspaceAccessStore {
  listMembers(input: { workspaceId: string }): Promise<WorkspaceMemberInfo[]>
  upsertMember(input: {
    workspaceId: string
    emailOrProviderId: string
    role: WorkspaceRole
    provider?: string
  }): Promise<void>
  setMemberRole(input: { workspaceId: string; userId: string; role: WorkspaceRole }): Promise<void>
  removeMember(input: { workspaceId: string; userId: string }): Promise<void>
  listWorkspaces(input: {
    search?: string
    includeDeleted?: boolean
    page: number
    perPage: number
  }): Promise<{ items: WorkspaceSummary[]; total: number }>
  getWorkspace(input: { workspaceId: string }): Promise<WorkspaceSummary | null>
  createWorkspace(input: { name: string; description?: string; ownerUserId: string }): Promise<{ workspaceId: string }>
  softDeleteWorkspace(input: { workspaceId: string; deletedAt: number }): Promise<void>
  restoreWorkspace(input: { workspaceId: string }): Promise<void>
  searchUsers(input: { query: string; limit?: number }): Promise<AdminUserSearchResult[]>
}

export interface WorkspaceSettingsStore {
  get(workspaceId: string, key: string): Promise<string | null>
  set(workspaceId: string, key: string, value: string): Promise<void>
  /** Optional in the host; `expected: null` means "only if absent". */
  compareAndSet?(workspaceId: string, key: string, expected: string | null, next: string): Promise<boolean>
}

export interface AdminUserInfo extends AdminUserSearchResult {
  /** When the grant was made, epoch milliseconds. */
  createdAt: number
}

export interface AdminUserStore {
  listAdmins(): Promise<AdminUserInfo[]>
  grantAdmin(input: { userId: string; createdByUserId?: string }): Promise<void>
  revokeAdmin(input: { userId: string }): Promise<void>
  isAdmin(input: { userId: string }): Promise<boolean>
  searchUsers(input: { query: string; limit?: number }): Promise<AdminUserSearchResult[]>
}

export interface AdminStoreCapabilities {
  supportsServerSideAdmin: boolean
  supportsUserSearch: boolean
  supportsWorkspaceList: boolean
  supportsWorkspaceManagement: boolean
  supportsDeploymentAdminGrants: boolean
}

/** The host calls the factories on every request, with that request's event. */
export interface AdminStoreProvider {
  id: string
  order?: number
  createWorkspaceAccessStore(event: H3Event): WorkspaceAccessStore
  createWorkspaceSettingsStore(event: H3Event): WorkspaceSettingsStore
  createAdminUserStore(event: H3Event): AdminUserStore
  getCapabilities?: () => AdminStoreCapabilities
}

/** Asked while resolving a session, with the auth provider's user id and the provider's name. */
export interface DeploymentAdminChecker {
  checkDeploymentAdmin(providerUserId: string, provider: string): Promise<boolean>
}

export type DeploymentAdminCheckerFactory = () => DeploymentAdminChecker
