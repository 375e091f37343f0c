/**
 * Pragmas as the CLI reports them (`or3-sqlite status`, `npm run inspect`): codes by the names
 * SQLite's documentation gives them, and the journal mode as the connection's layer knows it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { SqliteInfo } from "../layers/Sqlite.js"
import type { TargetKind } from "./CliTarget.js"

/** Pragmas whose values are codes, with each code's name (`synchronous` 2 is `FULL`). */
const PRAGMA_CODE_NAMES: Readonly<Record<string, ReadonlyArray<string>>> = {
  synchronous: ["OFF", "NORMAL", "FULL", "EXTRA"],
  auto_vacuum: ["NONE", "FULL", "INCREMENTAL"]
}

/**
 * The values of `names` on the connection, codes by name. The journal mode of a local database
 * comes from `SqliteInfo`: its layer set it, or, read-only, took it from the file header, where
 * the connection may report "delete" for a WAL file it opened `immutable`. A remote libSQL server
 * is asked: nothing here set its mode.
 */
export const readPragmas = <N extends string>(names: ReadonlyArray<N>, kind: TargetKind) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const info = yield* SqliteInfo
    const pragmas = {} as Record<N, unknown>
    for (const name of names) {
      if (name === "journal_mode" && kind !== "remote") {
        pragmas[name] = info.settings.journalMode.toLowerCase()
        continue
      }
      // Names come from the callers' constant lists.
      const rows = yield* sql.unsafe<Record<string, unknown>>(`PRAGMA ${name}`)
      const value = rows.length === 0 ? null : Object.values(rows[0])[0]
      pragmas[name] = PRAGMA_CODE_NAMES[name]?.[Number(value)] ?? value
    }
    return pragmas as Readonly<Record<N, unknown>>
  })
