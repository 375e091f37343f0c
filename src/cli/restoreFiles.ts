/**
 * The file work of `or3-sqlite restore`: read what the database being replaced had issued, prepare
 * the restored file next to it, and swap it in.
 *
 * Why the heads move: devices that synced with the lost database hold cursors up to its heads. The
 * restored database would issue those versions again for other changes, and a device would skip
 * them. So every workspace's `head` and `horizon` move to max(backup head, lost head) + 1: each
 * existing cursor is then below the horizon (or ahead of the head) and its device is told
 * `requiresSnapshot`, rebuilds from a snapshot, and pulls on from there.
 */
import BetterSqlite3 from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { CliError } from "./CliErrors.js"
import { fsync } from "./fsync.js"

export type Heads = ReadonlyMap<string, number>

/** The heads the replaced database had issued, or why they cannot be read. */
export type LostHeads = { readonly _tag: "Read"; readonly heads: Heads } | { readonly _tag: "Unreadable"; readonly reason: string }

/**
 * The heads of a database by workspace, in id order (none before a migration made `sync_heads`),
 * through `rows`, which runs one statement on the caller's connection and returns its rows.
 */
export const readHeads = <E, R>(rows: <A>(statement: string) => Effect.Effect<ReadonlyArray<A>, E, R>) =>
  Effect.gen(function*() {
    const [table] = yield* rows<{ n: number }>(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sync_heads'"
    )
    if (table.n === 0) return new Map() as Heads
    const heads = yield* rows<{ workspace_id: string; head: number }>(
      "SELECT workspace_id, head FROM sync_heads ORDER BY workspace_id"
    )
    return new Map(heads.map((row) => [row.workspace_id, row.head])) as Heads
  })

/**
 * Reads the heads of the database at `path` while holding it exclusively: a file another process
 * has open (a server still running) is refused, since it could write after the swap. Closing the
 * last connection folds its WAL back into the file, so nothing of it is lost when it is set aside.
 */
export const readLostHeads = (path: string): Effect.Effect<LostHeads, CliError> => {
  if (!Fs.existsSync(path)) return Effect.succeed({ _tag: "Unreadable", reason: `no file at ${path}` } as const)
  const attempt = <A>(run: () => A) => Effect.try({ try: run, catch: (error) => error })
  return Effect.acquireUseRelease(
    attempt(() => new BetterSqlite3(path, { fileMustExist: true, timeout: 0 })),
    (db) =>
      Effect.gen(function*() {
        yield* attempt(() => db.pragma("locking_mode = EXCLUSIVE"))
        yield* attempt(() => db.exec("BEGIN EXCLUSIVE"))
        const heads = yield* readHeads((statement) => attempt(() => db.prepare(statement).all() as Array<never>))
        yield* attempt(() => db.exec("COMMIT"))
        return { _tag: "Read", heads } as const
      }),
    (db) => Effect.sync(() => db.close())
  ).pipe(
    Effect.catchAll((error): Effect.Effect<LostHeads, CliError> => {
      const { code, message } = error as { code?: string; message?: string }
      if (code === "SQLITE_BUSY") {
        return Effect.fail(
          new CliError({ message: `${path} is open in another process: stop the server (and any other or3-sqlite) before restoring` })
        )
      }
      return Effect.succeed({ _tag: "Unreadable", reason: `${code ?? "error"}: ${message ?? String(error)}` } as const)
    })
  )
}

export interface WorkspaceRestore {
  readonly workspaceId: string
  readonly backupHead: number | null
  readonly lostHead: number | null
  /** The new head and horizon. */
  readonly head: number
}

/** The head of every workspace: one past the highest version either database (or `minHead`) names. */
export const planHeads = (backup: Heads, lost: Heads | undefined, minHead: number | undefined): Array<WorkspaceRestore> =>
  [...new Set([...backup.keys(), ...(lost?.keys() ?? [])])].sort().map((workspaceId) => {
    const backupHead = backup.get(workspaceId) ?? null
    const lostHead = lost?.get(workspaceId) ?? null
    return { workspaceId, backupHead, lostHead, head: Math.max(backupHead ?? 0, lostHead ?? 0, minHead ?? 0) + 1 }
  })

/**
 * Copies the backup to `partial` and moves its heads and horizons; open snapshot chains go (their
 * tokens answer "expired" and the device starts a new snapshot). The copy is flushed to disk.
 */
export const prepareRestored = (backup: string, partial: string, plan: ReadonlyArray<WorkspaceRestore>) =>
  Effect.gen(function*() {
    yield* Effect.tryPromise({
      try: () => Fs.promises.copyFile(backup, partial, Fs.constants.COPYFILE_EXCL),
      catch: (error) => new CliError({ message: `cannot copy ${backup} to ${partial}: ${(error as Error).message}` })
    })
    yield* Effect.try({
      try: () => {
        const db = new BetterSqlite3(partial, { fileMustExist: true })
        try {
          const move = db.prepare(`
            INSERT INTO sync_heads (workspace_id, head, horizon) VALUES (?, ?, ?)
            ON CONFLICT (workspace_id) DO UPDATE SET head = excluded.head, horizon = excluded.horizon`)
          db.transaction(() => {
            for (const ws of plan) move.run(ws.workspaceId, ws.head, ws.head)
            db.exec("DELETE FROM snapshots")
          }).immediate()
        } finally {
          db.close()
        }
        fsync(partial)
      },
      catch: (error) => new CliError({ message: `cannot prepare the restored file: ${(error as Error).message}` })
    })
  })

/** The files SQLite keeps next to a database; a stale one next to a restored file would be replayed. */
const SIDE_FILES = ["-wal", "-shm", "-journal"]

/**
 * Puts `prepared` in place of `target` in one synchronous step (no interrupt can land inside it):
 * the replaced file is first kept aside under `aside` (a hard link, so the swap itself is one
 * atomic rename), its side files move next to it (also when the database itself is gone: a stale
 * WAL would be replayed into the restored file), then `prepared` is renamed over `target`.
 * Returns the aside path, or null when there was nothing to set aside.
 */
export const swapIn = (prepared: string, target: string, aside: string): string | null => {
  const replaced = Fs.existsSync(target)
  if (replaced) {
    try {
      Fs.linkSync(target, aside)
    } catch {
      Fs.copyFileSync(target, aside, Fs.constants.COPYFILE_EXCL)
    }
  }
  let moved = replaced
  for (const suffix of SIDE_FILES) {
    if (!Fs.existsSync(`${target}${suffix}`)) continue
    Fs.renameSync(`${target}${suffix}`, `${aside}${suffix}`)
    moved = true
  }
  Fs.renameSync(prepared, target)
  fsync(Path.dirname(target))
  return moved ? aside : null
}
