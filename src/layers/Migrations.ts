/**
 * Runs the package's migrations at start-up, with the `@effect/sql` Migrator over the SqlClient.
 * All pending migrations run in one `BEGIN IMMEDIATE` transaction: a failure leaves the database at
 * the schema it had, and a second process starting at the same time waits, then finds nothing to do.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Migrator from "@effect/sql/Migrator"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { MigrationFailed, SchemaTooNew } from "../schema/errors.js"
import { type MigrationRecord, migrations, migrationsTable } from "../migrations/index.js"
import * as Database from "./Database.js"
import * as Sqlite from "./Sqlite.js"

const migrate = Migrator.make({})

/** Ledger rows, or none when the ledger table does not exist yet. */
export const appliedMigrations = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [ledger] = yield* sql<{ n: number }>`
    SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${migrationsTable}`
  if (ledger.n === 0) return []
  return yield* sql<{ migration_id: number; name: string }>`
    SELECT migration_id, name FROM ${sql(migrationsTable)} ORDER BY migration_id`
}).pipe(Effect.orDie)

/** A migration as every message names it: `NNNN_name`. */
export const migrationKey = (id: number, name: string) => `${String(id).padStart(4, "0")}_${name}`

/** A ledger as `appliedMigrations` reads it. */
type Ledger = ReadonlyArray<{ readonly migration_id: number; readonly name: string }>

/** Entries of `applied` that `record` does not know, as keys: migrations of a newer release. */
export const newerOf = (applied: Ledger, record: MigrationRecord = migrations): Array<string> => {
  const known = new Set(Object.keys(record).map((key) => Number(key.split("_")[0])))
  return applied.filter((row) => !known.has(row.migration_id)).map((row) => migrationKey(row.migration_id, row.name))
}

/** Migration keys (`NNNN_name`) of `record` that `applied` does not list yet. */
export const pendingOf = (applied: Ledger, record: MigrationRecord = migrations): Array<string> => {
  const done = new Set(applied.map((row) => row.migration_id))
  return Object.keys(record).filter((key) => !done.has(Number(key.split("_")[0]))).sort()
}

/** Ledger entries `record` does not know, as keys: migrations of a newer release. */
export const newerMigrations = (record: MigrationRecord = migrations) =>
  Effect.map(appliedMigrations, (applied) => newerOf(applied, record))

/**
 * Fails with `SchemaTooNew` (the one wording every caller uses) when a newer release migrated the
 * database: its ledger names migrations `record` does not know.
 */
export const requireKnownSchema = (record: MigrationRecord = migrations) =>
  Effect.flatMap(newerMigrations(record), (unknown) =>
    unknown.length > 0 ? Effect.fail(new SchemaTooNew({ unknownMigrations: unknown })) : Effect.void)

/** Migration keys (`NNNN_name`) of `record` that the ledger does not list yet. */
export const pendingMigrations = (record: MigrationRecord = migrations) =>
  Effect.map(appliedMigrations, (applied) => pendingOf(applied, record))

/**
 * Applies the pending migrations of `record` and returns the keys it applied. Refuses a database
 * whose ledger names a migration this version does not know: it was written by a newer release.
 */
export const runMigrations = Effect.fn("Migrations.run")(function*(record: MigrationRecord = migrations) {
  yield* requireKnownSchema(record)
  // Each migration fails with its own name; the Migrator turns that into a defect and rolls back.
  const named = Object.fromEntries(
    Object.entries(record).map(([key, effect]) => [
      key,
      effect.pipe(
        Effect.catchAllCause((cause) => Effect.fail(new MigrationFailed({ migration: key, cause }))),
        Effect.withSpan(`Migrations.${key}`)
      )
    ])
  )
  const applied = yield* migrate({ loader: Migrator.fromRecord(named), table: migrationsTable }).pipe(
    Effect.catchAllDefect((defect) =>
      defect instanceof Migrator.MigrationError && defect.cause instanceof MigrationFailed
        ? Effect.fail(defect.cause)
        : Effect.die(defect)
    ),
    Effect.catchTag("MigrationError", "SqlError", (error) =>
      Effect.fail(new MigrationFailed({ migration: "ledger", cause: error }))
    )
  )
  const keys = applied.map(([id, name]) => migrationKey(id, name))
  if (keys.length > 0) yield* Effect.logInfo(`Applied migrations: ${keys.join(", ")}`)
  return keys
}, Effect.annotateLogs("package", "or3-sqlite"))

/** Migrates the database when the layer is built. */
export const layer: Layer.Layer<never, MigrationFailed | SchemaTooNew, SqlClient.SqlClient> = Layer.effectDiscard(
  runMigrations()
)

/**
 * SQL from options or `OR3_SQLITE_*` (better-sqlite3, or libSQL with `OR3_SQLITE_DRIVER=libsql`),
 * migrated: anything built on it sees the current schema.
 */
export const layerSql = (options: Database.DatabaseOptions = {}) =>
  layer.pipe(Layer.provideMerge(Database.layer(options)))

/** A migrated private in-memory database, for tests. */
export const layerSqlMemory = layer.pipe(Layer.provideMerge(Sqlite.layerMemory))

/** A migrated database file, for tests and tools. */
export const layerSqlFile = (path: string, options: Parameters<typeof Sqlite.layerFile>[1] = {}) =>
  layer.pipe(Layer.provideMerge(Sqlite.layerFile(path, options)))
