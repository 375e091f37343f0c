/**
 * Long single statements (`VACUUM`, `VACUUM INTO`, `PRAGMA integrity_check`) run in a child Node
 * process, so that Ctrl-C can stop them at once.
 *
 * better-sqlite3 runs a statement synchronously: while a VACUUM runs, this process cannot even see
 * a signal. In a child, the parent stays responsive; when it is interrupted it kills the child
 * (SIGKILL) and waits for it to be gone. What the child was writing was never committed, and
 * SQLite's atomic commit (the WAL, or the rollback journal replayed by the next opener) leaves the
 * database as it was before the statement. The child ignores SIGINT/SIGTERM itself: a Ctrl-C at a
 * terminal reaches the whole process group, and the parent decides (and reports 130).
 *
 * `OR3_CLI_TEST_CHILD_DELAY_MS` makes the child wait, with the database open, before its
 * statements: a test knob, so that the tests can interrupt a long statement deterministically on a
 * small database. `<ms>` delays every child; a list of `<job>:<ms>` only the jobs it names
 * (`copy:1500,check:20000`), so that a test can hold backup's check of its copy for long without
 * holding the copy as long first.
 */
import * as ChildProcess from "node:child_process"
import * as Effect from "effect/Effect"
import { driverPath } from "../layers/Checkpointer.js"
import { CliError } from "./CliErrors.js"
import { planReadOnly } from "./ReadOnlySqlite.js"

export interface ChildStatement {
  readonly sql: string
  readonly params?: ReadonlyArray<string | number | null>
  /** Return the rows (`all`) rather than the run info. */
  readonly rows?: boolean
}

export interface ChildJob {
  /** What the job does: `vacuum`, `copy` (backup's `VACUUM INTO`) or `check` (of a file). */
  readonly name: "vacuum" | "copy" | "check"
  /** A path or a `file:` URI (see ReadOnlySqlite). */
  readonly filename: string
  readonly readonly: boolean
  readonly busyTimeoutMs: number
  readonly statements: ReadonlyArray<ChildStatement>
}

// Run with `node -e`, so it needs no file of its own next to a bundle. argv: driver path, job.
const childSource = `
process.on("SIGINT", () => {}); process.on("SIGTERM", () => {})
const Database = require(process.argv[1])
const job = JSON.parse(process.argv[2])
const delay = job.delayMs
try {
  const db = new Database(job.filename, { readonly: job.readonly, fileMustExist: true, timeout: job.busyTimeoutMs })
  if (delay > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay)
  const results = job.statements.map((s) => { const st = db.prepare(s.sql); return s.rows ? st.all(...(s.params || [])) : st.run(...(s.params || [])) })
  db.close()
  process.stdout.write(JSON.stringify({ results }))
} catch (error) {
  process.stdout.write(JSON.stringify({ error: { code: error && error.code, message: String(error && error.message || error) } }))
  process.exitCode = 1
}
`

/** The test knob's delay for a job named `name` (see above); 0 when it is unset or names another job. */
const testDelayMs = (name: ChildJob["name"]): number => {
  for (const entry of (process.env.OR3_CLI_TEST_CHILD_DELAY_MS ?? "").split(",")) {
    const [job, ms] = entry.includes(":") ? entry.split(":", 2) : [name, entry]
    if (job === name) return Number(ms) || 0
  }
  return 0
}

/**
 * Runs the job's statements in one connection of a child process and returns each one's result.
 * Interrupting the effect kills the child and waits for it to exit.
 */
export const runInChild = (job: ChildJob): Effect.Effect<ReadonlyArray<unknown>, CliError> =>
  Effect.async<ReadonlyArray<unknown>, CliError>((resume) => {
    // The copy of better-sqlite3 this process loaded, as the checkpoint worker finds it: never one
    // resolved from this module's location, which inside a bundle is not where the driver is.
    const driver = driverPath()
    if (driver === undefined) {
      return resume(Effect.fail(new CliError({ message: "SQLite: better-sqlite3 is not in Node's module cache" })))
    }
    const args = ["-e", childSource, driver, JSON.stringify({ ...job, delayMs: testDelayMs(job.name) })]
    const child = ChildProcess.spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SQLITE_USE_URI: "1" }
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk) => (out += chunk))
    child.stderr.on("data", (chunk) => (err += chunk))
    let done = false
    child.on("close", (code, signal) => {
      if (done) return
      done = true
      let reply: { results?: Array<unknown>; error?: { code?: string; message: string } } = {}
      try {
        reply = JSON.parse(out)
      } catch {
        // Reported below with what the child printed.
      }
      if (reply.results !== undefined && code === 0) return resume(Effect.succeed(reply.results))
      const why = reply.error !== undefined
        ? `${reply.error.code ? `${reply.error.code}: ` : ""}${reply.error.message}`
        : `the SQLite child process ended (${signal ?? `exit ${code}`}): ${err.trim().split("\n")[0] ?? ""}`
      resume(Effect.fail(new CliError({ message: `SQLite: ${why}` })))
    })
    return Effect.async<void>((resumeCancel) => {
      if (done || child.exitCode !== null) return resumeCancel(Effect.void)
      done = true
      child.once("close", () => resumeCancel(Effect.void))
      child.kill("SIGKILL")
    })
  })

export interface FileCheck {
  readonly integrity: ReadonlyArray<string>
  readonly violations: ReadonlyArray<{ readonly table: string; readonly rowid: number | null; readonly parent: string }>
}

/**
 * `integrity_check` and `foreign_key_check` of the database file at `path`, in a child process,
 * opened read-only as `planReadOnly` says (a WAL file on a read-only folder is opened immutable).
 */
export const checkFileInChild = (path: string, busyTimeoutMs: number): Effect.Effect<FileCheck, CliError> =>
  Effect.map(
    runInChild({
      name: "check",
      filename: planReadOnly(path).filename,
      readonly: true,
      busyTimeoutMs,
      statements: [{ sql: "PRAGMA integrity_check", rows: true }, { sql: "PRAGMA foreign_key_check", rows: true }]
    }),
    ([integrity, violations]) => ({
      integrity: (integrity as Array<{ integrity_check: string }>).map((row) => row.integrity_check),
      violations: violations as FileCheck["violations"]
    })
  )
