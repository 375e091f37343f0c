/**
 * 0001: users, workspaces and the sync tables. `docs/schema.md` describes every table and index;
 * keep the two in step. Times are epoch milliseconds.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { SyncedTables } from "../schema/tables.js"

const authTables = [
  `CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT,
    display_name TEXT,
    active_workspace_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  // removeWorkspace re-homes every user whose active workspace it removes.
  `CREATE INDEX users_active_workspace ON users (active_workspace_id)`,
  `CREATE TABLE auth_accounts (
    provider TEXT NOT NULL,
    provider_user_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, provider_user_id)
  ) WITHOUT ROWID`,
  `CREATE INDEX auth_accounts_user ON auth_accounts (user_id)`,
  `CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    owner_user_id TEXT NOT NULL REFERENCES users(id),
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    deleted_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
  ) WITHOUT ROWID`,
  `CREATE INDEX workspace_members_user ON workspace_members (user_id, created_at, workspace_id)`,
  `CREATE TABLE workspace_invites (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
    invited_by_user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_user_id TEXT,
    revoked_at INTEGER,
    revoked_by_user_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE INDEX workspace_invites_workspace ON workspace_invites (workspace_id, status, created_at)`,
  `CREATE INDEX workspace_invites_email ON workspace_invites (workspace_id, email)`
]

/**
 * Sync tables. `change_log` and the materialized `s_*` tables are rowid tables: their rows carry a
 * whole payload, and a WITHOUT ROWID table would store it in interior pages too.
 */
const syncTables = [
  `CREATE TABLE sync_heads (
    workspace_id TEXT PRIMARY KEY,
    head INTEGER NOT NULL,
    horizon INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID`,
  `CREATE TABLE change_log (
    workspace_id TEXT NOT NULL,
    server_version INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    pk TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('put', 'delete')),
    payload_json TEXT,
    clock INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    device_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    owner_user_id TEXT,
    prior_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE UNIQUE INDEX change_log_version ON change_log (workspace_id, server_version)`,
  `CREATE UNIQUE INDEX change_log_op ON change_log (workspace_id, op_id)`,
  `CREATE INDEX change_log_created ON change_log (created_at)`,
  `CREATE TABLE tombstones (
    workspace_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    pk TEXT NOT NULL,
    clock INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    op_id TEXT NOT NULL,
    server_version INTEGER NOT NULL,
    owner_user_id TEXT,
    deleted_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, table_name, pk)
  ) WITHOUT ROWID`,
  // gcTombstones walks a workspace's tombstones in version order, up to the lowest cursor.
  `CREATE INDEX tombstones_version ON tombstones (workspace_id, server_version)`,
  `CREATE TABLE device_cursors (
    workspace_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, device_id)
  ) WITHOUT ROWID`,
  `CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    high_watermark INTEGER NOT NULL,
    tables_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  `CREATE INDEX snapshots_workspace ON snapshots (workspace_id, expires_at)`,
  `CREATE TABLE sync_maintenance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL CHECK (state IN ('idle', 'running', 'failed')),
    last_run TEXT,
    last_error TEXT,
    backlog INTEGER,
    updated_at INTEGER NOT NULL
  )`,
  ...Object.values(SyncedTables).map(
    ({ sqlTable }) => `CREATE TABLE ${sqlTable} (
    workspace_id TEXT NOT NULL,
    pk TEXT NOT NULL,
    data_json TEXT NOT NULL,
    clock INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    op_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    server_version INTEGER NOT NULL,
    owner_user_id TEXT,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, pk)
  )`
  )
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of [...authTables, ...syncTables]) {
    yield* sql.unsafe(statement)
  }
})
