/** What a WAL database holds without its WAL: the tests of background checkpoints read it. */
import Database from "better-sqlite3"
import * as Fs from "node:fs"

/**
 * Rows of change_log (of one workspace, if given) found in the main database file alone, i.e. what
 * has been checkpointed. The
 * copy is taken while the worker may be writing pages, so a torn copy can fail to open or read:
 * that counts as "not yet" (-1) and the caller looks again.
 */
export const checkpointedRows = (path: string, workspaceId?: string): number => {
  const copy = `${path}.main-only`
  Fs.copyFileSync(path, copy)
  try {
    const db = new Database(copy, { readonly: true })
    try {
      const hasLog = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'change_log'").get() !== undefined
      if (!hasLog) return 0
      const count = workspaceId === undefined
        ? db.prepare("SELECT count(*) AS n FROM change_log").get()
        : db.prepare("SELECT count(*) AS n FROM change_log WHERE workspace_id = ?").get(workspaceId)
      return (count as { n: number }).n
    } finally {
      db.close()
    }
  } catch {
    return -1
  } finally {
    Fs.rmSync(copy)
  }
}
