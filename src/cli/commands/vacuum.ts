/**
 * `or3-sqlite vacuum`: rebuilds the file to give back the pages GC freed, then truncates the WAL.
 * VACUUM cannot run inside a transaction; it takes the write lock itself for its whole run, so the
 * server's writes wait (up to their busy_timeout) meanwhile: run it in a quiet period.
 *
 * The VACUUM runs in a child process (ChildStatements.ts): Ctrl-C kills it, and SQLite rolls its
 * uncommitted work back. The sizes reported are the database file's own, measured after the
 * `wal_checkpoint(TRUNCATE)` that moves the rebuilt pages into it; the WAL is reported apart.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Command } from "@effect/cli"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import { requireKnownSchema } from "../../layers/Migrations.js"
import { SqliteInfo } from "../../layers/Sqlite.js"
import { runInChild } from "../ChildStatements.js"
import { common, withDatabase } from "../CliDatabase.js"
import { CliOutput, formatBytes } from "../CliOutput.js"

export interface VacuumReport {
  readonly database: string
  readonly pagesBefore: number
  readonly pagesAfter: number
  readonly freePagesBefore: number
  /** The database file, without its WAL. */
  readonly bytesBefore: number | null
  readonly bytesAfter: number | null
  readonly walBytesBefore: number | null
  readonly walBytesAfter: number | null
  /** False when a reader kept the WAL from being emptied: the file shrinks at the next checkpoint. */
  readonly checkpointed: boolean
  readonly durationMs: number
}

const size = (path: string) => {
  try {
    return Fs.statSync(path).size
  } catch {
    return null
  }
}

const pageCounts = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [pages] = yield* sql<{ page_count: number }>`PRAGMA page_count`
  const [free] = yield* sql<{ freelist_count: number }>`PRAGMA freelist_count`
  return { pages: pages.page_count, free: free.freelist_count }
})

const render = (r: VacuumReport) =>
  `${r.database}: ${r.pagesBefore} -> ${r.pagesAfter} pages, file ${formatBytes(r.bytesBefore)} -> ${formatBytes(r.bytesAfter)}` +
  (r.checkpointed ? "" : ` (the WAL holds ${formatBytes(r.walBytesAfter)} not yet checkpointed: a reader is open)`)

export const vacuumCommand = Command.make("vacuum", common, (flags) =>
  withDatabase(flags, "write", (target) =>
    Effect.gen(function*() {
      yield* requireKnownSchema()
      const info = yield* SqliteInfo
      const output = yield* CliOutput
      const path = target.location
      const before = yield* pageCounts
      const bytesBefore = size(path)
      const walBytesBefore = size(`${path}-wal`)
      const progress = output.progress("vacuum")
      yield* progress.update(`rebuilding ${before.pages} pages (${before.free} free)`)
      const started = Date.now()
      const wal = info.settings.journalMode === "WAL"
      const [, checkpoint] = yield* runInChild({
        name: "vacuum",
        filename: path,
        readonly: false,
        busyTimeoutMs: info.settings.busyTimeoutMs,
        statements: [
          { sql: "VACUUM" },
          ...(wal ? [{ sql: "PRAGMA wal_checkpoint(TRUNCATE)", rows: true }] : [])
        ]
      })
      const after = yield* pageCounts
      const [result] = (checkpoint ?? [{ busy: 0 }]) as Array<{ busy: number; log: number; checkpointed: number }>
      const report: VacuumReport = {
        database: path,
        pagesBefore: before.pages,
        pagesAfter: after.pages,
        freePagesBefore: before.free,
        bytesBefore,
        bytesAfter: size(path),
        walBytesBefore,
        walBytesAfter: size(`${path}-wal`),
        checkpointed: result.busy === 0 && (result.log ?? 0) === (result.checkpointed ?? 0),
        durationMs: Date.now() - started
      }
      yield* progress.finish(`done in ${report.durationMs} ms`)
      yield* output.result(report, render)
    }), "vacuum"))
