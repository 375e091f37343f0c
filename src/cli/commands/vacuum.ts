/**
 * `or3-sqlite vacuum`: rebuilds the file to give back the pages GC freed, then truncates the WAL.
 * VACUUM cannot run inside a transaction; it takes the write lock itself for its whole run, so the
 * server's writes wait (up to their busy_timeout) meanwhile: run it in a quiet period.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Command } from "@effect/cli"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import { SqliteInfo } from "../../layers/Sqlite.js"
import { common, withDatabase, isRemoteUrl } from "../CliDatabase.js"
import { CliError } from "../CliErrors.js"
import { CliOutput, formatBytes } from "../CliOutput.js"

export interface VacuumReport {
  readonly database: string
  readonly pagesBefore: number
  readonly pagesAfter: number
  readonly freePagesBefore: number
  readonly bytesBefore: number | null
  readonly bytesAfter: number | null
  readonly durationMs: number
}

const size = (path: string) => {
  try {
    return Fs.statSync(path).size + (Fs.existsSync(`${path}-wal`) ? Fs.statSync(`${path}-wal`).size : 0)
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

export const vacuumCommand = Command.make("vacuum", common, (flags) =>
  withDatabase(
    flags,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const info = yield* SqliteInfo
      const output = yield* CliOutput
      if (info.settings.inMemory || isRemoteUrl(info.settings.path)) {
        return yield* new CliError({ message: "vacuum works on a local database file" })
      }
      const before = yield* pageCounts
      const bytesBefore = size(info.settings.path)
      const progress = output.progress("vacuum")
      yield* progress.update(`rebuilding ${before.pages} pages (${before.free} free)`)
      const started = Date.now()
      yield* sql`VACUUM`
      if (info.settings.journalMode === "WAL") yield* sql`PRAGMA wal_checkpoint(TRUNCATE)`
      const after = yield* pageCounts
      const report: VacuumReport = {
        database: info.settings.path,
        pagesBefore: before.pages,
        pagesAfter: after.pages,
        freePagesBefore: before.free,
        bytesBefore,
        bytesAfter: size(info.settings.path),
        durationMs: Date.now() - started
      }
      yield* progress.finish(`done in ${report.durationMs} ms`)
      yield* output.result(
        report,
        (r) => `${r.database}: ${r.pagesBefore} -> ${r.pagesAfter} pages, ${formatBytes(r.bytesBefore)} -> ${formatBytes(r.bytesAfter)}`
      )
    })
  )).pipe(Command.withDescription("Rebuild the database file to reclaim the space GC freed (takes the write lock while it runs)"))
