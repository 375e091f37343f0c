/**
 * Database invariants, read through a plain better-sqlite3 connection (not the package's code, so a
 * bug there cannot hide itself): page integrity, contiguous versions per workspace, the change log
 * replayed by LWW equal to the materialized state, acknowledged ops present. Each check returns the
 * problems it found as readable lines; an empty list means the invariant holds.
 */
import Database from "better-sqlite3"
import { SyncedTables } from "../../../src/schema/tables.js"
import { diffMaterialized, type LogEntry, replay, type RowImage, type TombImage } from "./lwwReplay.js"

export type Raw = Database.Database

/** A connection for checks; `readonly` ones never take the write lock. */
export const openRaw = (path: string, options: { readonly readonly?: boolean } = {}): Raw =>
  new Database(path, { timeout: 10_000, readonly: options.readonly ?? false })

/** Runs `body` on a fresh connection to `path` and closes it. */
export const withRaw = <A>(path: string, body: (db: Raw) => A, options: { readonly readonly?: boolean } = {}): A => {
  const db = openRaw(path, options)
  try {
    return body(db)
  } finally {
    db.close()
  }
}

/** `PRAGMA integrity_check` and `foreign_key_check`; `[]` when the file is sound. */
export const integrityProblems = (db: Raw): Array<string> => {
  const integrity = (db.pragma("integrity_check") as Array<{ integrity_check: string }>)
    .map((row) => row.integrity_check)
    .filter((line) => line !== "ok")
  const foreign = (db.pragma("foreign_key_check") as Array<Record<string, unknown>>).map((row) =>
    `foreign key: ${JSON.stringify(row)}`
  )
  return [...integrity, ...foreign]
}

const hasTable = (db: Raw, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined

const hasColumn = (db: Raw, table: string, column: string) =>
  (db.pragma(`table_info("${table}")`) as Array<{ name: string }>).some((info) => info.name === column)

/** Workspaces that have a head or a log entry. */
export const syncedWorkspaces = (db: Raw): Array<string> =>
  !hasTable(db, "sync_heads") ? [] : (db.prepare(
    "SELECT workspace_id FROM sync_heads UNION SELECT DISTINCT workspace_id FROM change_log ORDER BY 1"
  ).pluck().all() as Array<string>)

export const headOf = (db: Raw, workspaceId: string): number =>
  (db.prepare("SELECT head FROM sync_heads WHERE workspace_id = ?").pluck().get(workspaceId) as number | undefined) ?? 0

export const readLog = (db: Raw, workspaceId: string): Array<LogEntry> =>
  db.prepare(
    `SELECT workspace_id, server_version, table_name, pk, op, payload_json, clock, hlc, device_id, op_id,
       owner_user_id, prior_version
     FROM change_log WHERE workspace_id = ? ORDER BY server_version`
  ).all(workspaceId) as Array<LogEntry>

export const readImages = (db: Raw, workspaceId: string) => {
  const rows: Array<RowImage> = []
  for (const [tableName, { sqlTable }] of Object.entries(SyncedTables)) {
    rows.push(
      ...(db.prepare(
        `SELECT ? AS table_name, pk, data_json, clock, hlc, op_id, device_id, server_version, deleted, owner_user_id
         FROM ${sqlTable} WHERE workspace_id = ?`
      ).all(tableName, workspaceId) as Array<RowImage>)
    )
  }
  const tombs = db.prepare(
    `SELECT table_name, pk, clock, hlc, op_id, server_version, owner_user_id FROM tombstones WHERE workspace_id = ?`
  ).all(workspaceId) as Array<TombImage>
  return { rows, tombs }
}

/** Versions of the workspace are exactly 1..head, each once, and the head is the last of them. */
export const versionProblems = (db: Raw, workspaceId: string): Array<string> => {
  const head = headOf(db, workspaceId)
  const versions = db.prepare("SELECT server_version FROM change_log WHERE workspace_id = ? ORDER BY server_version")
    .pluck().all(workspaceId) as Array<number>
  const problems: Array<string> = []
  if (versions.length !== head) problems.push(`${workspaceId}: ${versions.length} log entries for head ${head}`)
  for (let i = 0; i < versions.length && problems.length < 10; i++) {
    if (versions[i] !== i + 1) problems.push(`${workspaceId}: version #${i + 1} is ${versions[i]} (gap or duplicate)`)
  }
  return problems
}

/** The materialized rows and tombstones of the workspace equal the LWW replay of its whole log. */
export const replayProblems = (db: Raw, workspaceId: string): Array<string> => {
  const { rows, tombs } = readImages(db, workspaceId)
  return diffMaterialized(replay(readLog(db, workspaceId)), rows, tombs).map((line) => `${workspaceId}: ${line}`)
}

/**
 * Pull serves exactly one entry per key, its current winner's: the only entry with
 * `superseded = 0` is the one whose version the key's row (else its tombstone) records, and a key
 * with no state has none.
 */
export const servedProblems = (db: Raw, workspaceId: string): Array<string> => {
  const { rows, tombs } = readImages(db, workspaceId)
  const winners = new Map(rows.map((r) => [`${r.table_name}/${r.pk}`, r.server_version]))
  for (const t of tombs) if (!winners.has(`${t.table_name}/${t.pk}`)) winners.set(`${t.table_name}/${t.pk}`, t.server_version)
  const served = db.prepare(
    "SELECT table_name, pk, server_version FROM change_log WHERE workspace_id = ? AND superseded = 0"
  ).all(workspaceId) as Array<{ table_name: string; pk: string; server_version: number }>
  const problems: Array<string> = []
  const servedKeys = new Set<string>()
  for (const e of served) {
    const key = `${e.table_name}/${e.pk}`
    if (winners.get(key) !== e.server_version) problems.push(`${workspaceId}: v${e.server_version} of ${key} is served but the key's winner is v${winners.get(key) ?? " none"}`)
    servedKeys.add(key)
  }
  for (const key of winners.keys()) if (!servedKeys.has(key)) problems.push(`${workspaceId}: ${key} has no served entry`)
  return problems.slice(0, 10)
}

export interface Ack {
  readonly workspaceId: string
  readonly opId: string
  readonly serverVersion: number
}

/** Every acknowledged op is in its workspace's log, at the version it was acknowledged with. */
export const ackProblems = (db: Raw, acks: Iterable<Ack>): Array<string> => {
  const find = db.prepare("SELECT server_version FROM change_log WHERE workspace_id = ? AND op_id = ?").pluck()
  const problems: Array<string> = []
  for (const ack of acks) {
    const stored = find.get(ack.workspaceId, ack.opId) as number | undefined
    if (stored !== ack.serverVersion) {
      problems.push(`acked ${ack.opId} at v${ack.serverVersion} in ${ack.workspaceId}: log has ${stored ?? "nothing"}`)
    }
  }
  return problems
}

/**
 * Every invariant of a database the sync code wrote without GC: integrity, versions, replay, acks.
 * Returns the problems, prefixed by the check that found them.
 */
export const syncProblems = (db: Raw, acks: Iterable<Ack> = []): Array<string> => {
  const problems = integrityProblems(db).map((line) => `integrity: ${line}`)
  if (problems.length > 0) return problems
  if (!hasTable(db, "change_log")) {
    // Killed before its first migration committed: an empty file is sound if nothing was acked.
    const acked = [...acks].length
    return acked === 0 ? [] : [`schema: no change_log, yet ${acked} ops were acknowledged`]
  }
  for (const workspaceId of syncedWorkspaces(db)) {
    problems.push(...versionProblems(db, workspaceId).map((line) => `versions: ${line}`))
    problems.push(...replayProblems(db, workspaceId).map((line) => `replay: ${line}`))
    if (hasColumn(db, "change_log", "superseded")) {
      problems.push(...servedProblems(db, workspaceId).map((line) => `served: ${line}`))
    }
  }
  problems.push(...ackProblems(db, acks).map((line) => `acks: ${line}`))
  return problems
}

/** Every user table, every row, in a stable order: for "nothing changed" comparisons. */
export const dumpAll = (db: Raw): Record<string, Array<unknown>> => {
  const tables = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
  ).pluck().all() as Array<string>
  return Object.fromEntries(tables.map((name) => {
    const columns = (db.pragma(`table_info("${name}")`) as Array<unknown>).length
    const order = Array.from({ length: columns }, (_, i) => i + 1).join(", ")
    return [name, db.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`).all()]
  }))
}

/** The schema as SQLite records it (every table, index and trigger with its SQL), plus the ledger. */
export const schemaFingerprint = (db: Raw) => ({
  objects: db.prepare(
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
  ).all() as Array<{ type: string; name: string; tbl_name: string; sql: string | null }>,
  ledger: hasTable(db, "or3_sqlite_migrations")
    ? (db.prepare("SELECT migration_id, name FROM or3_sqlite_migrations ORDER BY migration_id").all() as Array<
      { migration_id: number; name: string }
    >)
    : []
})

/** A consistent copy of the database at `from` (WAL content included), as a new file `to`. */
export const copyDatabase = (from: string, to: string) => withRaw(from, (db) => db.prepare("VACUUM INTO ?").run(to))
