/**
 * 0002: what the admin dashboard needs. Deployment-admin grants, per-workspace settings, and the
 * indexes behind the admin lookups (a user by e-mail, an account by provider user id alone, the
 * workspace listing newest first). `docs/schema.md` describes each; keep the two in step. Times
 * are epoch milliseconds, like 0001's.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

const statements = [
  // A grant belongs to a user: deleting the user deletes it. `created_by` is free text, because
  // the granting admin may be the host's env super admin, who has no user row.
  `CREATE TABLE admin_users (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    created_by TEXT
  ) WITHOUT ROWID`,
  // A rowid table: values are opaque strings, often JSON, up to `Limits.maxSettingValueLength`.
  // No foreign key: the host may write a workspace's settings while it provisions the workspace.
  `CREATE TABLE workspace_settings (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
  )`,
  `CREATE INDEX users_email ON users (email)`,
  `CREATE INDEX auth_accounts_provider_user ON auth_accounts (provider_user_id)`,
  `CREATE INDEX workspaces_created ON workspaces (created_at, id)`
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement)
  }
})
