/**
 * The package's migrations, embedded so that a bundled server needs no migration files on disk.
 * Keys are `NNNN_name`; numbers only grow, and a released migration is never edited.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Effect from "effect/Effect"
import initial from "./0001_initial.js"
import admin from "./0002_admin.js"
import currentWinners from "./0003_current_winners.js"

export type MigrationRecord = Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>>

export const migrations: MigrationRecord = {
  "0001_initial": initial,
  "0002_admin": admin,
  "0003_current_winners": currentWinners
}

/** The ledger table: package-prefixed, so it never meets another tool's migrations. */
export const migrationsTable = "or3_sqlite_migrations"
