/**
 * Runs the built `or3-sqlite` in a child process (see `cliBuild.ts`) and a gateway on the same file
 * in this process: two connections, two processes, as an operator's CLI next to a running server.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { layerSqlFile } from "../../src/layers/Migrations.js"
import { SyncGateway, type SyncGatewayShape } from "../../src/services/SyncGateway.js"
import { buildCli, buildInspect } from "./cliBuild.js"
import { put } from "./ops.js"

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of a child CLI: this one without test-runner markers or OR3_SQLITE_* values. */
const childEnv = (variables: Record<string, string>) => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("OR3_SQLITE_") || name.startsWith("VITEST") || name === "NODE_ENV") continue
    env[name] = value
  }
  return { ...env, ...variables }
}

export interface CliRunOptions {
  /** `inspect` runs `npm run inspect`'s entry instead of `or3-sqlite`. */
  readonly script?: "or3-sqlite" | "inspect"
  /** Run as this user (to make chmod bite when the tests run as root). */
  readonly user?: { readonly uid: number; readonly gid: number }
  /** Send `signal` once stderr matches `when`. */
  readonly interrupt?: { readonly signal: NodeJS.Signals; readonly when: RegExp }
}

/** A CLI still running after this is killed (its code is then null): a hang fails, never blocks. */
const HANG_MS = 120_000

/** `or3-sqlite ...args`, run to its end; never fails (the exit code is in the result). */
export const cli = (args: ReadonlyArray<string>, variables: Record<string, string> = {}, options: CliRunOptions = {}) =>
  Effect.async<CliResult>((resume) => {
    const script = options.script === "inspect" ? buildInspect() : buildCli()
    const child = ChildProcess.spawn(process.execPath, [script, ...args], {
      env: childEnv(variables),
      stdio: ["ignore", "pipe", "pipe"],
      ...options.user
    })
    let stdout = ""
    let stderr = ""
    let signalled = false
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => {
      stderr += chunk
      if (options.interrupt !== undefined && !signalled && options.interrupt.when.test(stderr)) {
        signalled = true
        child.kill(options.interrupt.signal)
      }
    })
    const hang = setTimeout(() => child.kill("SIGKILL"), HANG_MS)
    child.on("close", (code) => {
      clearTimeout(hang)
      resume(Effect.succeed({ code, stdout, stderr }))
    })
    return Effect.sync(() => void child.kill())
  })

/** The gateway and SqlClient of this process on `path` (migrated), open until the scope closes. */
export const openGateway = (path: string) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      SyncGateway.Default.pipe(
        Layer.provideMerge(layerSqlFile(path)),
        Layer.orDie,
        // The start-up lines (SQLite version, migrations) would only be noise in the test output.
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
    )
    return { gateway: Context.get(context, SyncGateway), sql: Context.get(context, SqlClient.SqlClient) }
  })

/** `count` puts of keys `prefix-0..` in batches of 100 (payloads of about `bytes` bytes). */
export const seedPuts = (
  gateway: SyncGatewayShape,
  workspaceId: string,
  options: { readonly count: number; readonly prefix?: string; readonly bytes?: number; readonly clock?: number }
) =>
  Effect.gen(function*() {
    const filler = "x".repeat(options.bytes ?? 16)
    for (let start = 0; start < options.count; start += 100) {
      const ops = Array.from({ length: Math.min(100, options.count - start) }, (_, i) => {
        const pk = `${options.prefix ?? "k"}-${start + i}`
        return put({ pk, clock: options.clock ?? 1, payload: { id: pk, text: filler, clock: options.clock ?? 1 } })
      })
      const result = yield* gateway.push({ scope: { workspaceId }, ops })
      if (!result.results.every((r) => r.success)) return yield* Effect.dieMessage("seed push rejected")
    }
  })

/**
 * Pushes one small batch every few milliseconds until interrupted, counting the pushes; a push
 * that fails (SQLITE_BUSY, a defect) fails the fiber, and so the test that joins it.
 */
export const keepPushing = (gateway: SyncGatewayShape, workspaceId: string, counter: { pushes: number }) =>
  Effect.gen(function*() {
    for (let round = 0; ; round++) {
      const ops = Array.from({ length: 5 }, (_, i) => put({ pk: `live-${round % 50}-${i}`, clock: round + 1 }))
      const result = yield* gateway.push({ scope: { workspaceId }, ops })
      if (!result.results.every((r) => r.success)) return yield* Effect.dieMessage("live push rejected")
      counter.pushes++
      yield* Effect.sleep("3 millis")
    }
  })
