/**
 * A second process on the same database file, for the tests that need two real connections in two
 * processes: `node <args>` that prints a line `ready` once it has the file open, works, and ends
 * with one JSON line (its result). A child that must not start before this process can also wait
 * for a line `go` on its stdin (`go` sends it). Killed when the scope closes if it is still running.
 */
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"

/**
 * Starts the child and waits for its `ready` line; `go` writes the line `go` to its stdin (and
 * closes it), `result` waits for its exit and parses the last line.
 */
export const startReadyChild = <A>(args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => ChildProcess.spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] })),
      (child) => Effect.sync(() => child.exitCode === null && child.kill())
    )
    let stdout = ""
    let stderr = ""
    // Log lines may come first: `ready` is a line of its own.
    const ready = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk) => {
        stdout += chunk
        if (stdout.split("\n").includes("ready")) resolve()
      }))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const done = new Promise<A>((resolve, reject) =>
      child.on("close", (code) =>
        code === 0
          ? resolve(JSON.parse(stdout.trim().split("\n").at(-1)!))
          : reject(new Error(`${args[0]} exited with ${code}: ${stderr}`))))
    yield* Effect.promise(() => Promise.race([ready, done]))
    return { result: Effect.promise(() => done), go: Effect.sync(() => void child.stdin.end("go\n")) }
  })
