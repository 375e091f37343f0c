/**
 * Background WAL checkpoints: a worker thread with its own connection copies committed WAL frames
 * into the database file, so a push does not pay for the checkpoint its commit would otherwise
 * trigger (in the floor benchmark, auto-checkpoints were about 60% of push time).
 *
 * Durability does not change: a commit is durable once it is in the WAL (synced at commit under
 * `synchronous=FULL`); a checkpoint only moves it. The WAL stays bounded: the worker checkpoints
 * every `DEFAULT_INTERVAL_MS`, and the writer's own `wal_autocheckpoint` stays on at a higher mark,
 * so a stalled worker can never let the WAL grow without limit.
 */
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"

export interface CheckpointerOptions {
  /** The database file. */
  readonly path: string
  /** Milliseconds between two checkpoint attempts. */
  readonly intervalMs?: number
  /** Milliseconds the worker's connection waits for a lock (it never blocks writers: PASSIVE). */
  readonly busyTimeoutMs?: number
}

/**
 * Milliseconds between two checkpoints. Each one syncs the WAL and the database file, and those
 * syncs contend with the commits' own: at 10 ms, W1's push under `synchronous=FULL` ran at ~0.70x
 * of the floor and single-op p50 at ~0.5x; at 50-100 ms, ~0.75-0.80x and ~0.8x. At W1's rate
 * (~20k ops/s, ~11 KB of WAL per op) 100 ms of writes stay under the writer's mark below.
 */
export const DEFAULT_INTERVAL_MS = 100

/** WAL pages after which the writer checkpoints by itself (the bound when the worker lags). */
export const WRITER_CHECKPOINT_PAGES = 8192

/** Bytes the WAL file is truncated to after a reset, so a burst does not keep its size on disk. */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024

// The worker's body, run with `eval` so it needs no file of its own next to the bundle the host
// builds. It loads better-sqlite3 from the path the main thread resolved.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const Database = require(workerData.driver)
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs })
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
let stopped = false
const tick = () => {
  if (stopped) return
  try {
    checkpoint.all()
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) })
  }
  setTimeout(tick, workerData.intervalMs)
}
parentPort.on("message", (message) => {
  if (message === "stop") {
    stopped = true
    try { checkpoint.all(); db.close() } finally { parentPort.postMessage("stopped") }
  }
})
tick()
`

/**
 * What a worker's error says. A SQLite error thrown in the worker reaches this thread as a plain
 * object, often a `code` and no message (`{ code: "SQLITE_READONLY_DIRECTORY" }`).
 */
export const describeWorkerError = (error: unknown): string => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const reason = [code, message].filter((part) => part !== undefined && part !== "").join(": ")
  return reason === "" ? String(error) : reason
}

const driverPath = () => createRequire(import.meta.url).resolve("better-sqlite3")

/**
 * Starts the worker for the lifetime of the scope. On close it runs one last checkpoint, closes
 * its connection and exits; errors it meets are logged, never thrown at a writer.
 */
export const startCheckpointer = (options: CheckpointerOptions): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Worker(workerSource, {
          eval: true,
          workerData: {
            driver: driverPath(),
            path: options.path,
            intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
            busyTimeoutMs: options.busyTimeoutMs ?? 0
          }
        })
      ),
      (worker) =>
        Effect.async<void>((resume) => {
          const done = () => resume(Effect.void)
          worker.once("exit", done)
          worker.on("message", (message) => {
            if (message === "stopped") void worker.terminate()
          })
          worker.postMessage("stop")
          const timer = setTimeout(() => void worker.terminate(), 2000)
          worker.once("exit", () => clearTimeout(timer))
        })
    )
    worker.unref()
    const log = Runtime.runFork(yield* Effect.runtime<never>())
    worker.on("message", (message: unknown) => {
      if (typeof message === "object" && message !== null && "error" in message) {
        log(Effect.logWarning(`Background checkpoint failed: ${(message as { error: string }).error}`))
      }
    })
    worker.on("error", (error) => {
      log(Effect.logWarning(`Checkpoint worker stopped: ${describeWorkerError(error)}`))
    })
  })
