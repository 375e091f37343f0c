/**
 * or3-provider-sqlite: users, workspaces and sync for OR3 Chat in SQLite, written with Effect.
 *
 * - Hosts: `createSqliteProvider()` resolves to the OR3 facades (`authWorkspaceStore`,
 *   `syncGatewayAdapter`, `syncAdminAdapter`, the admin stores and the deployment-admin checker);
 *   the Nuxt module `or3-provider-sqlite/nuxt` registers them.
 * - Effect programs: the services, the layers and the schemas, to compose directly.
 */

// OR3 facades
export { createSqliteProvider, providerLayer, type SqliteProviderOptions } from "./facades/createSqliteProvider.js"
export { makeSqliteProvider, type ProviderServices, type SqliteProvider } from "./facades/SqliteProvider.js"
export { createLazySqliteProvider, type LazySqliteProvider } from "./facades/LazySqliteProvider.js"
export { makeAuthWorkspaceStoreFacade, type SqliteAuthWorkspaceStore } from "./facades/AuthWorkspaceStoreFacade.js"
export {
  ADMIN_STORE_CAPABILITIES,
  makeAdminUserStoreFacade,
  makeDeploymentAdminChecker,
  makeWorkspaceAccessStoreFacade,
  makeWorkspaceSettingsStoreFacade,
  type SqliteWorkspaceSettingsStore
} from "./facades/AdminStoreFacades.js"
export { type GcTarget, resolveGcTarget } from "./facades/AdminGcTarget.js"
export {
  makeSyncGatewayAdapter,
  SQLITE_PROVIDER_ID,
  SYNC_CAPABILITIES,
  type SqliteSyncGatewayAdapter
} from "./facades/SyncGatewayAdapter.js"
export {
  ADMIN_GC_RETENTION_SECONDS,
  type GcActionResult,
  makeSyncAdminAdapter,
  statusWarnings
} from "./facades/SyncAdminAdapter.js"
export { makeMaintenanceTracker, type MaintenanceTracker } from "./facades/MaintenanceTracker.js"
export {
  causeToH3Error,
  h3Error,
  INTERNAL_ERROR_MESSAGE,
  internalH3Error,
  isClientError,
  isH3Error,
  isServerFault,
  toH3Error
} from "./facades/H3Errors.js"
export { asMutable, makeRunner, type Runner, serviceCaller } from "./facades/Runner.js"
export {
  type CallerSession,
  requireWorkspaceScope,
  SESSION_CONTEXT_PREFIX,
  scopeWorkspaceId,
  sessionFromEvent,
  sessionUser
} from "./facades/Session.js"

// The reference host: the OR3 routes over a provider, for trying and testing it over HTTP
export { createReferenceHost } from "./host/createReferenceHost.js"
export { listenReferenceHost, type ListeningHost, type ListenOptions, LOOPBACK } from "./host/listen.js"
export { bearerAuthenticator, parseHostTokens, randomToken, type TokenGrant } from "./host/bearerAuth.js"
export { type HostClient, type HostResponse, makeHostClient } from "./host/HostClient.js"
export {
  DEFAULT_SESSION_CACHE_MAX_ENTRIES,
  DEFAULT_SESSION_CACHE_TTL_MS,
  makeSessionCache,
  type SessionCache,
  type SessionCacheOptions
} from "./host/sessionCache.js"
export type { Authenticate, HostIdentity, ReferenceHostOptions, ReferenceHostProvider } from "./host/types.js"

// The OR3 host interfaces, as declared by this package
export type * as Or3 from "./or3/types.js"

// Services
export { AuthWorkspaceStore, type AuthWorkspaceStoreShape } from "./services/AuthWorkspaceStore.js"
export { type GcReport, SyncGateway, type SyncGatewayShape } from "./services/SyncGateway.js"
export { SyncMaintenance, type SyncMaintenanceShape, type SyncMaintenanceState } from "./services/SyncMaintenance.js"
export { WorkspaceAccessStore, type WorkspaceAccessStoreShape } from "./services/WorkspaceAccessStore.js"
export { WorkspaceSettingsStore, type WorkspaceSettingsStoreShape } from "./services/WorkspaceSettingsStore.js"
export { AdminUserStore, type AdminUserStoreShape } from "./services/AdminUserStore.js"
export { Ids, type IdsShape, nowMillis } from "./services/Ids.js"

// Layers
export * as Database from "./layers/Database.js"
export * as Migrations from "./layers/Migrations.js"
export * as Sqlite from "./layers/Sqlite.js"
export * as SqliteConfig from "./layers/SqliteConfig.js"
export * as Tracing from "./layers/Tracing.js"

// Schemas and errors
export * from "./schema/errors.js"
export * from "./schema/wire.js"
export * from "./schema/store.js"
export * from "./schema/admin.js"
export { Limits } from "./schema/limits.js"
export { decodeInput, describeParseError } from "./schema/decode.js"
export { migrations, migrationsTable, type MigrationRecord } from "./migrations/index.js"
