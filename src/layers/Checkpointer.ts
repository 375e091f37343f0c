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
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { Worker } from "node:worker_threads"

export interface CheckpointerOptions {
  /** The database file. */
  readonly path: string
  /** Milliseconds between two checkpoint attempts. */
  readonly intervalMs?: number
  /** Milliseconds the worker's connection waits for a lock (it never blocks writers: PASSIVE). */
  readonly busyTimeoutMs?: number
  /** The better-sqlite3 entry file the worker loads; `driverPath()` when absent. */
  readonly driver?: string
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

/** Milliseconds the worker has to open its connection before checkpoints fall back to SQLite's. */
export const START_TIMEOUT_MS = 10_000

// The worker's body, run with `eval` so it needs no file of its own next to the bundle the host
// builds. It loads better-sqlite3 from the file the main thread names, says "ready" once its
// connection is open, and exits after a last checkpoint when told to stop.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const Database = require(workerData.driver)
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs })
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
let timer
const tick = () => {
  try {
    checkpoint.all()
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) })
  }
  timer = setTimeout(tick, workerData.intervalMs)
}
parentPort.on("message", (message) => {
  if (message !== "stop") return
  clearTimeout(timer)
  try { checkpoint.all(); db.close() } finally { process.exit(0) }
})
parentPort.postMessage("ready")
tick()
`

/**
 * The file this process loaded better-sqlite3 from, found by identity in Node's module cache, or
 * undefined when it is not there (a runtime without that cache). Never resolved from this
 * module's own location: inside the OR3 host's Nitro bundle `import.meta.url` is the bundle's
 * entry (`file:///_entry.js`) while better-sqlite3 is external, loaded from the app's
 * node_modules; the worker must load that same copy.
 */
export const driverPath = (): string | undefined => {
  const cache = createRequire(Path.join(process.cwd(), "index.js")).cache
  for (const entry of Object.values(cache)) {
    if (entry?.exports === Database) return entry.filename
  }
  return undefined
}

interface RunningWorker {
  readonly worker: Worker
  readonly exited: Promise<void>
}

/**
 * What a worker's error says. A SQLite error thrown in the worker reaches this thread as a plain
 * object, often a `code` and no message (`{ code: "SQLITE_READONLY_DIRECTORY" }`).
 */
export const describeWorkerError = (error: unknown): string => {
  if (error instanceof Error && error.message !== "") return error.message
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const reason = [code, message].filter((part) => part !== undefined && part !== "").join(": ")
  return reason === "" ? String(error) : reason
}

/**
 * Starts the worker and waits until its connection is open. Any failure (no driver file, a driver
 * that does not load, no answer in time) stops the worker and yields the reason instead.
 */
const open = (options: CheckpointerOptions): Effect.Effect<RunningWorker | string> =>
  Effect.async<RunningWorker | string>((resume) => {
    const driver = options.driver ?? driverPath()
    if (driver === undefined) return resume(Effect.succeed("better-sqlite3 is not in Node's module cache"))
    let worker: Worker
    try {
      worker = new Worker(workerSource, {
        eval: true,
        workerData: {
          driver,
          path: options.path,
          intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
          busyTimeoutMs: options.busyTimeoutMs ?? 0
        }
      })
    } catch (error) {
      return resume(Effect.succeed(describeWorkerError(error)))
    }
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
    const settle = (outcome: RunningWorker | string) => {
      clearTimeout(timer)
      worker.off("message", onMessage).off("error", onError).off("exit", onExit)
      if (typeof outcome === "string") void worker.terminate()
      resume(Effect.succeed(outcome))
    }
    const onMessage = (message: unknown) => {
      if (message === "ready") settle({ worker, exited })
    }
    const onError = (error: Error) => settle(describeWorkerError(error))
    const onExit = (code: number) => settle(`the worker exited with code ${code}`)
    const timer = setTimeout(() => settle(`no answer within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS)
    worker.on("message", onMessage).on("error", onError).on("exit", onExit)
  })

/** Asks the worker for a last checkpoint and waits for it to exit; terminates it after 2 s. */
const stop = ({ exited, worker }: RunningWorker) =>
  Effect.promise(() => {
    worker.postMessage("stop")
    const timer = setTimeout(() => void worker.terminate(), 2000)
    return exited.finally(() => clearTimeout(timer))
  })

/**
 * Starts the worker for the lifetime of the scope and succeeds with whether it runs. When it
 * cannot start, one warning says why and the caller leaves checkpoints to SQLite's own
 * auto-checkpoint; the database works either way. Errors the running worker meets are logged,
 * never thrown at a writer.
 */
export const startCheckpointer = (options: CheckpointerOptions): Effect.Effect<boolean, never, Scope.Scope> =>
  Effect.gen(function*() {
    const opened = yield* Effect.acquireRelease(
      open(options),
      (opened) => (typeof opened === "string" ? Effect.void : stop(opened))
    )
    if (typeof opened === "string") {
      yield* Effect.logWarning(
        `Background checkpoints are off (${opened}); SQLite's own auto-checkpoint moves the WAL into ${options.path}`
      )
      return false
    }
    const { worker } = opened
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
    return true
  })
