/**
 * `or3-sqlite restore <backup> [--db <path>] [--min-head N]`, with the server stopped: checks the
 * backup, reads the heads of the database it replaces, prepares the restored file next to it with
 * every workspace's head and horizon moved past both (see `../restoreFiles.ts`), and swaps it in,
 * keeping the replaced file aside as `<db>.replaced-<time>`.
 *
 * When the replaced database cannot be read (gone, corrupt), `--min-head N` must say how far its
 * versions went (the highest head it may have reached); without it the command refuses, because
 * devices ahead of the backup would otherwise skip the versions the restored database reissues.
 * `--min-head 0` accepts that risk explicitly.
 */
import { Args, Command, Options } from "@effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ensureDatabaseDir } from "../../layers/databaseDir.js"
import { requireKnownSchema } from "../../layers/Migrations.js"
import { common, requireLocalFile } from "../CliDatabase.js"
import { CliError, ExitCode } from "../CliErrors.js"
import * as CliOutput from "../CliOutput.js"
import { resolveTarget } from "../CliTarget.js"
import * as ReadOnlySqlite from "../ReadOnlySqlite.js"
import { planHeads, prepareRestored, readLostHeads, swapIn, type WorkspaceRestore } from "../restoreFiles.js"
import { checkCopy } from "./backup.js"

export interface RestoreReport {
  readonly backup: string
  readonly database: string
  /** Where the replaced file was kept, or null when there was none. */
  readonly replaced: string | null
  /** How the lost heads were known: read from the replaced file, or `--min-head`. */
  readonly lostHeadsFrom: "replaced file" | "--min-head"
  readonly minHead: number | null
  readonly workspaces: ReadonlyArray<WorkspaceRestore>
}

const render = (r: RestoreReport) =>
  [
    `${r.database}: restored from ${r.backup}${r.replaced === null ? "" : ` (the replaced file is kept at ${r.replaced})`}`,
    ...r.workspaces.map((ws) =>
      `  ${ws.workspaceId}: backup head ${ws.backupHead ?? "-"}, lost head ${ws.lostHead ?? "-"} -> head and horizon ${ws.head}`
    ),
    "Devices that synced with the replaced database rebuild from a snapshot on their next pull."
  ].join("\n")

const backupArg = Args.file({ name: "backup" })

const minHead = Options.integer("min-head").pipe(Options.optional)

const usage = (message: string) => new CliError({ message, exitCode: ExitCode.usage })

export const restoreCommand = Command.make("restore", { ...common, backup: backupArg, minHead }, (flags) =>
  Effect.gen(function*() {
    const output = CliOutput.make({ json: flags.json })
    const floor = Option.getOrUndefined(flags.minHead)
    if (floor !== undefined && floor < 0) return yield* usage(`--min-head ${floor}: must be 0 or more`)
    const target = yield* resolveTarget(Option.getOrUndefined(flags.db))
    yield* requireLocalFile(target, "restore")
    const database = Path.resolve(target.location)
    const backup = Path.resolve(flags.backup)
    if (!Fs.existsSync(backup)) return yield* new CliError({ message: `no backup at ${backup}` })
    if (backup === database) return yield* usage("the backup and the database are the same file")
    if ((Fs.statSync(`${backup}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0) {
      return yield* new CliError({
        message: `${backup} has a -wal file next to it: it is a live database, not a self-contained copy; restore a copy made by or3-sqlite backup`
      })
    }

    const progress = output.progress("restore")
    yield* progress.update("checking the backup (integrity_check, foreign_key_check)", 0, 3)
    const check = yield* checkCopy(backup)
    if (check.integrity !== "ok" || check.foreignKeyViolations > 0) {
      return yield* new CliError({
        message: `the backup failed its check (integrity: ${check.integrity}; foreign key violations: ${check.foreignKeyViolations}); nothing was changed`
      })
    }
    yield* Effect.provide(requireKnownSchema(), ReadOnlySqlite.layer(backup))
    if (check.schemaVersion === 0) return yield* new CliError({ message: `${backup} is not an or3-provider-sqlite database` })

    yield* progress.update("reading the heads of the database it replaces", 1, 3)
    const lost = yield* readLostHeads(database)
    if (lost._tag === "Unreadable" && floor === undefined) {
      return yield* usage(
        `cannot read the database being replaced (${lost.reason}), so it is unknown which versions devices have seen. ` +
          "Pass --min-head N, N at least the highest head it reached (from monitoring, or or3-sqlite status output); " +
          "--min-head 0 accepts that devices ahead of the backup skip the versions the restored database issues again"
      )
    }
    const backupHeads = new Map(check.heads.map((h) => [h.workspaceId, h.head]))
    const plan = planHeads(backupHeads, lost._tag === "Read" ? lost.heads : undefined, floor)

    yield* progress.update("preparing the restored file", 2, 3)
    yield* ensureDatabaseDir(database, target.source)
    const partial = `${database}.restore-${process.pid}`
    const aside = `${database}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`
    // Interrupted or failed before the swap, the prepared copy goes and the database is untouched.
    const replaced = yield* prepareRestored(backup, partial, plan).pipe(
      Effect.zipRight(Effect.try({
        try: () => swapIn(partial, database, aside),
        catch: (error) => new CliError({ message: `cannot put the restored file in place: ${(error as Error).message}` })
      })),
      Effect.onError(() => Effect.sync(() => Fs.rmSync(partial, { force: true })))
    )
    yield* progress.finish(`restored ${plan.length} workspace head(s)`)
    yield* output.result(
      {
        backup,
        database,
        replaced,
        lostHeadsFrom: lost._tag === "Read" ? "replaced file" : "--min-head",
        minHead: floor ?? null,
        workspaces: plan
      } satisfies RestoreReport,
      render
    )
  }))
