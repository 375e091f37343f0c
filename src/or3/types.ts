/**
 * The OR3 Chat host interfaces this package implements, declared here so the package type-checks
 * without the host (contract sections 1, 4, 5.7 and 6). Shapes follow the host's own declarations:
 * mutable arrays, optional methods, Promise-returning facades. Nothing here is runtime code.
 */
import type { H3Event } from "h3"

// ---------------------------------------------------------------------------------------------
// Sync wire types (shared/sync/types.ts)

export interface SyncScope {
  workspaceId: string
  projectId?: string
}

export interface ChangeStamp {
  deviceId: string
  opId: string
  hlc: string
  clock: number
}

export type PendingOpStatus =
  | "pending"
  | "in_flight"
  | "retry_wait"
  | "failed_retryable"
  | "failed_permanent"
  | "applied"
  | "discarded"
  | "syncing"
  | "failed"

export type SyncErrorCode =
  | "VALIDATION_ERROR"
  | "UNAUTHORIZED"
  | "CONFLICT"
  | "NOT_FOUND"
  | "RATE_LIMITED"
  | "OVERSIZED"
  | "NETWORK_ERROR"
  | "SERVER_ERROR"
  | "UNKNOWN"

/** Opaque to providers (contract 11.3): the host checks it, adapters may ignore it. */
export type FileKindCapability = string

export interface PendingOp {
  id: string
  tableName: string
  operation: "put" | "delete"
  pk: string
  payload?: unknown
  stamp: ChangeStamp
  createdAt: number
  attempts: number
  nextAttemptAt?: number
  readyAt?: number
  status: PendingOpStatus
  lastError?: string
  lastErrorCode?: SyncErrorCode
  failureKind?: "retry_exhausted" | "permanent"
  failedAt?: number
  discardedAt?: number
  discardReason?: string
}

export interface SyncChange {
  serverVersion: number
  tableName: string
  pk: string
  op: "put" | "delete"
  payload?: unknown
  stamp: ChangeStamp
}

export interface PullRequest {
  scope: SyncScope
  cursor: number
  limit: number
  tables?: string[]
  fileKindCapability?: FileKindCapability
}

export interface PullResponse {
  changes: SyncChange[]
  nextCursor: number
  hasMore: boolean
  oldestRetainedVersion: number
  requiresSnapshot: boolean
}

export interface SnapshotRequest {
  scope: SyncScope
  pageSize: number
  pageToken?: string
  tables?: string[]
  fileKindCapability?: FileKindCapability
}

export interface SnapshotRevision {
  clock: number
  hlc: string
  opId: string
}

export type SnapshotItem =
  | { kind: "row"; tableName: string; pk: string; payload: unknown; revision: SnapshotRevision }
  | { kind: "tombstone"; tableName: string; pk: string; revision: SnapshotRevision; serverDeletedAt: number }

export interface SnapshotResponse {
  workspaceId: string
  snapshotId: string
  highWatermark: number
  items: SnapshotItem[]
  nextPageToken: string | null
}

export interface PushBatch {
  scope: SyncScope
  ops: PendingOp[]
  fileKindCapability?: FileKindCapability
}

export type PushWinner =
  | { kind: "put"; payload: Record<string, unknown>; revision: SnapshotRevision }
  | { kind: "delete"; revision: SnapshotRevision; serverDeletedAt?: number }

export interface PushResultItem {
  opId: string
  success: boolean
  serverVersion?: number
  error?: string
  errorCode?: SyncErrorCode
  tableName?: string
  operation?: "put" | "delete"
  payload?: unknown
  wasExisting?: boolean
  applied?: boolean
  replayed?: boolean
  winner?: PushWinner
}

export interface PushResult {
  results: PushResultItem[]
  serverVersion: number
}

// ---------------------------------------------------------------------------------------------
// SyncGatewayAdapter (server/sync/gateway/types.ts)

export interface SyncGatewayCapabilities {
  snapshotBootstrap?: "snapshot-v1"
  historyRetention?: "snapshot-v1"
}

export interface UpdateCursorInput {
  scope: { workspaceId: string }
  deviceId: string
  version: number
}

export interface GcInput {
  scope: { workspaceId: string }
  retentionSeconds: number
}

export type CanonicalStorageQueryKind = "live_metadata" | "reference_edges" | "active_reservations"

export interface CanonicalStorageQueryRequest {
  scope: { workspaceId: string }
  kind: CanonicalStorageQueryKind
  cursor?: string
  limit?: number
  hash?: string
  now?: number
}

export type CanonicalStorageRecord =
  | { kind: "metadata"; hash: string; sizeBytes: number; storageId?: string; updatedAt: number }
  | { kind: "reference"; hash: string; sourceTable: "messages" | "posts"; sourceId: string }
  | { kind: "reservation"; reservationId: string; hash: string; sizeBytes: number; expiresAt: number }

export interface CanonicalStorageQueryResponse {
  items: CanonicalStorageRecord[]
  nextCursor?: string
  hasMore: boolean
}

export interface UploadIntentReservationRequest {
  intentId: string
  workspaceId: string
  hash: string
  mimeType: string
  sizeBytes: number
  expiresAt: number
  workspaceQuotaBytes?: number
}

export interface UploadIntentConsumptionRequest {
  intentId: string
  workspaceId: string
  hash: string
  mimeType: string
  sizeBytes: number
  storageId: string
}

export type SyncMaintenanceState = {
  enabled: boolean
  lastRun?: string
  backlog?: number
  lastError?: string
  /** A failed pass must never mark the provider unavailable. */
  state: "idle" | "running" | "failed"
}

export interface SyncGatewayAdapter {
  id: string
  /** Missing means fail-closed: the host refuses snapshot bootstrap and history GC. */
  capabilities?: SyncGatewayCapabilities

  pull(event: H3Event, input: PullRequest): Promise<PullResponse>
  push(event: H3Event, input: PushBatch): Promise<PushResult>
  updateCursor(event: H3Event, input: UpdateCursorInput): Promise<void>

  snapshot?(event: H3Event, input: SnapshotRequest): Promise<SnapshotResponse>
  gcTombstones?(event: H3Event, input: GcInput): Promise<void>
  gcChangeLog?(event: H3Event, input: GcInput): Promise<void>

  queryCanonicalStorage?(event: H3Event, input: CanonicalStorageQueryRequest): Promise<CanonicalStorageQueryResponse>
  reserveUploadIntent?(event: H3Event, input: UploadIntentReservationRequest): Promise<void>
  consumeUploadIntent?(event: H3Event, input: UploadIntentConsumptionRequest): Promise<void>
  cancelUploadIntent?(event: H3Event, input: { workspaceId: string; intentId: string }): Promise<void>

  listWorkspaceIds?(): Promise<string[]>
  getMaintenanceState?(): SyncMaintenanceState
  beginMaintenanceRun?(): void
  completeMaintenanceRun?(input: { lastRun: string }): void
  failMaintenanceRun?(error: string): void
}

export type SyncGatewayAdapterFactory = () => SyncGatewayAdapter

export interface SyncGatewayAdapterRegistryItem {
  id: string
  order?: number
  create: SyncGatewayAdapterFactory
}

// ---------------------------------------------------------------------------------------------
// AuthWorkspaceStore (server/auth/store/types.ts)

export type WorkspaceRole = "owner" | "editor" | "viewer"
export type WorkspaceInviteStatus = "pending" | "accepted" | "revoked" | "expired"

/** Every time in epoch seconds, the host's unit for invites (or3-admin-contract 7-8). */
export interface WorkspaceInviteRecord {
  id: string
  workspaceId: string
  email: string
  role: WorkspaceRole
  status: WorkspaceInviteStatus
  invitedByUserId: string
  expiresAt: number
  tokenHash: string
  acceptedAt?: number | null
  acceptedUserId?: string | null
  revokedAt?: number | null
  createdAt: number
  updatedAt: number
}

export type InviteFailureReason = "not_found" | "email_mismatch" | "already_used" | "revoked" | "expired"

export type InviteValidationResult = { ok: true; role: WorkspaceRole } | { ok: false; reason: InviteFailureReason }

export type InviteProvisionResult =
  | { ok: true; userId: string; role: WorkspaceRole; createdUser: boolean }
  | { ok: false; reason: InviteFailureReason }

export type ConsumeInviteResult =
  | { ok: true; role: WorkspaceRole }
  | { ok: false; reason: "not_found" | "expired" | "revoked" | "already_used" | "token_mismatch" }

export interface UserWorkspaceListItem {
  id: string
  name: string
  description?: string | null
  role: WorkspaceRole
  createdAt?: number
  isActive?: boolean
}

export interface AuthWorkspaceStore {
  /** Lookup only, never creates. */
  getUser?(input: {
    provider: string
    providerUserId: string
  }): Promise<{ userId: string; email?: string; displayName?: string } | null>
  /** Idempotent and concurrency-safe. */
  getOrCreateUser(input: {
    provider: string
    providerUserId: string
    email?: string
    displayName?: string
  }): Promise<{ userId: string }>
  getOrCreateDefaultWorkspace(
    userId: string
  ): Promise<{ workspaceId: string; workspaceName: string; created?: boolean }>
  getWorkspaceRole(input: { userId: string; workspaceId: string }): Promise<WorkspaceRole | null>
  listUserWorkspaces(userId: string): Promise<UserWorkspaceListItem[]>
  createWorkspace(input: { userId: string; name: string; description?: string | null }): Promise<{ workspaceId: string }>
  updateWorkspace(input: {
    userId: string
    workspaceId: string
    name: string
    description?: string | null
  }): Promise<void>
  removeWorkspace(input: { userId: string; workspaceId: string }): Promise<void>
  setActiveWorkspace(input: { userId: string; workspaceId: string }): Promise<void>

  createInvite?(input: {
    workspaceId: string
    email: string
    role: WorkspaceRole
    invitedByUserId: string
    /** Epoch seconds: the host passes `floor(Date.now() / 1000) + ttlSeconds`. */
    expiresAt: number
    tokenHash: string
  }): Promise<{ inviteId: string }>
  listInvites?(input: {
    workspaceId: string
    status?: WorkspaceInviteStatus
    limit?: number
  }): Promise<WorkspaceInviteRecord[]>
  revokeInvite?(input: { workspaceId: string; inviteId: string; revokedByUserId: string }): Promise<void>
  consumeInvite?(input: {
    workspaceId: string
    email: string
    tokenHash: string
    acceptedUserId: string
  }): Promise<ConsumeInviteResult>
  validateInvite?(input: { workspaceId: string; email: string; tokenHash: string }): Promise<InviteValidationResult>
  acceptInviteAndProvisionUser?(input: {
    provider: string
    providerUserId: string
    email: string
    displayName?: string
    workspaceId: string
    tokenHash: string
  }): Promise<InviteProvisionResult>
}

/** Zero-arg: compatible with both the newer `create()` and the older `create(event)` registry. */
export type AuthWorkspaceStoreFactory = () => AuthWorkspaceStore

export interface AuthWorkspaceStoreRegistryItem {
  id: string
  order?: number
  create: AuthWorkspaceStoreFactory
}

// ---------------------------------------------------------------------------------------------
// Session (server/auth/session.ts)

/**
 * What `resolveSessionContext` caches under `event.context['__or3_session_context_*']`. Fields other
 * than `authenticated` are present only for an authenticated session.
 */
export interface SessionContext {
  authenticated: boolean
  provider?: string
  providerUserId?: string
  user?: { id: string; email?: string | null; displayName?: string | null }
  workspace?: { id: string; name?: string | null }
  role?: WorkspaceRole | null
  expiresAt?: string
  deploymentAdmin?: boolean
  authorizationRevision?: number
}

// ---------------------------------------------------------------------------------------------
// Provider admin adapter (server/admin/providers/*)

export type ProviderKind = "auth" | "sync" | "storage"
/** Only `error` marks the provider unavailable in the host's health view. */
export type AdminWarning = { level: "warning" | "error"; message: string }
export type ProviderAdminAction = { id: string; label: string; description?: string; danger?: boolean }
export type ProviderStatusContext = { enabled: boolean; provider: string }
export type ProviderAdminStatusResult = {
  details?: Record<string, unknown>
  warnings: AdminWarning[]
  actions: ProviderAdminAction[]
}
export type ProviderActionContext = { provider: string; enabled: boolean; session: SessionContext }

export interface ProviderAdminAdapter {
  id: string
  kind: ProviderKind
  getStatus(event: H3Event, ctx: ProviderStatusContext): Promise<ProviderAdminStatusResult>
  runAction?(
    event: H3Event,
    actionId: string,
    payload: Record<string, unknown> | undefined,
    ctx: ProviderActionContext
  ): Promise<unknown>
}

// ---------------------------------------------------------------------------------------------
// Nitro / runtime config, as far as the plugin reads them

/** The runtime-config keys the plugin reads (contract 6); values arrive from env, so unknown. */
export interface Or3RuntimeConfig {
  auth?: { enabled?: unknown }
  sync?: { enabled?: unknown; provider?: unknown }
  public?: { sync?: { provider?: unknown } }
}

/** The part of the Nitro app the plugin uses. */
export interface NitroAppLike {
  hooks: { hook(name: "close", handler: () => void | Promise<void>): unknown }
}

/** A Nitro plugin: Nitro calls it without awaiting, so only its synchronous part is ordered. */
export type NitroPluginLike = (nitroApp: NitroAppLike) => void | Promise<void>

// ---------------------------------------------------------------------------------------------
// Admin stores and the deployment-admin checker (declared in ./adminTypes.ts)

export type * from "./adminTypes.js"
