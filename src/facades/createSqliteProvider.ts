/**
 * The entry point for hosts: `createSqliteProvider(options)` opens the configured database, runs
 * the migrations, and resolves to the OR3 facades. Options left out fall back to the
 * `OR3_SQLITE_*` variables (see `layers/SqliteConfig.ts`).
 */
import * as Layer from "effect/Layer"
import * as Migrations from "../layers/Migrations.js"
import * as Tracing from "../layers/Tracing.js"
import type { SqliteOptions } from "../layers/SqliteConfig.js"
import { AdminUserStore } from "../services/AdminUserStore.js"
import { AuthWorkspaceStore } from "../services/AuthWorkspaceStore.js"
import { SyncGateway } from "../services/SyncGateway.js"
import { SyncMaintenance } from "../services/SyncMaintenance.js"
import { WorkspaceAccessStore } from "../services/WorkspaceAccessStore.js"
import { WorkspaceSettingsStore } from "../services/WorkspaceSettingsStore.js"
import { makeSqliteProvider, type SqliteProvider } from "./SqliteProvider.js"

export interface SqliteProviderOptions {
  /** Database file (`OR3_SQLITE_DB_PATH`); `:memory:` only when allowed. */
  readonly path?: string
  /** Forbid an in-memory database (`OR3_SQLITE_STRICT`). */
  readonly strict?: boolean
  /** `PRAGMA synchronous` (`OR3_SQLITE_PRAGMA_SYNCHRONOUS`). */
  readonly synchronous?: SqliteOptions["synchronous"]
  /** `PRAGMA journal_mode` (`OR3_SQLITE_PRAGMA_JOURNAL_MODE`). */
  readonly journalMode?: SqliteOptions["journalMode"]
  /** Accept an in-memory database outside tests (`OR3_SQLITE_ALLOW_IN_MEMORY`). */
  readonly allowInMemory?: boolean
}

/**
 * The services over one migrated connection: what the provider's runtime is built from. Spans are
 * exported with OpenTelemetry when `OR3_SQLITE_OTEL=true` (provided beneath everything, so start-up
 * and migrations are traced too).
 */
export const providerLayer = (options: SqliteProviderOptions = {}) =>
  Layer.mergeAll(
    AuthWorkspaceStore.Default,
    SyncGateway.Default,
    SyncMaintenance.Default,
    WorkspaceAccessStore.Default,
    WorkspaceSettingsStore.Default,
    AdminUserStore.Default
  ).pipe(
    Layer.provideMerge(Migrations.layerSql(options)),
    Layer.provide(Tracing.layerFromEnv())
  )

/**
 * Opens the database and runs pending migrations before resolving. Rejects with the typed
 * start-up error (bad configuration, a failed migration, a database from a newer release).
 */
export const createSqliteProvider = (options: SqliteProviderOptions = {}): Promise<SqliteProvider> =>
  makeSqliteProvider(providerLayer(options))
