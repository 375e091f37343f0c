/**
 * The synced tables: the host's allow-list, each table's primary-key field in the wire payload and
 * the SQLite table that holds its materialized rows. Every other module imports this list.
 */
export const SyncedTables = {
  threads: { pkField: "id", sqlTable: "s_threads" },
  messages: { pkField: "id", sqlTable: "s_messages" },
  projects: { pkField: "id", sqlTable: "s_projects" },
  posts: { pkField: "id", sqlTable: "s_posts" },
  kv: { pkField: "id", sqlTable: "s_kv" },
  file_meta: { pkField: "hash", sqlTable: "s_file_meta" },
  notifications: { pkField: "id", sqlTable: "s_notifications" }
} as const

export type SyncedTableName = keyof typeof SyncedTables

export const syncedTableNames = Object.keys(SyncedTables) as ReadonlyArray<SyncedTableName>

export const isSyncedTable = (name: string): name is SyncedTableName =>
  Object.prototype.hasOwnProperty.call(SyncedTables, name)

/** The table whose rows belong to one user inside a workspace (pull, snapshot and push filter it). */
export const userOwnedTable = "notifications" satisfies SyncedTableName
