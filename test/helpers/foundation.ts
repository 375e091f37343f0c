/**
 * Helpers for the SQLite-layer tests: variables fed through a ConfigProvider (process.env is never
 * touched), a logger that records what the layer logs, and temp directories removed at scope end.
 */
import { SqlClient } from "@effect/sql"
import { ConfigProvider, Effect, Layer, Logger } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** `OR3_SQLITE_*` (and `NODE_ENV`/`VITEST`) as given here, and nothing from the real environment. */
export const withVariables = (variables: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))

export interface LogEntry {
  readonly level: string
  readonly message: string
}

/** A logger that appends every entry to `entries`; provide `layer` around what should be observed. */
export const makeLogCapture = () => {
  const entries: Array<LogEntry> = []
  const logger = Logger.make(({ logLevel, message }) => {
    entries.push({
      level: logLevel.label,
      message: Array.isArray(message) ? message.map(String).join(" ") : String(message)
    })
  })
  return {
    entries,
    layer: Logger.add(logger),
    at: (level: string) => entries.filter((entry) => entry.level === level)
  }
}

/** A fresh directory under the OS temp dir, deleted with everything in it when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-sqlite-test-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** One pragma's value, read back from the connection. */
export const pragma = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<Record<string, unknown>>(`PRAGMA ${name}`)
    return rows.length === 0 ? undefined : Object.values(rows[0])[0]
  })
