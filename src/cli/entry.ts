/**
 * Runs a CLI program as the process (the `or3-sqlite` binary and `npm run inspect`): SIGINT and
 * SIGTERM interrupt it, and the exit code is the program's (130 when interrupted).
 *
 * Interrupts must land while work is running, not when it ends. better-sqlite3 runs statements
 * synchronously, and Effect's default scheduler resumes a fiber that yields on the microtask queue
 * for thousands of yields in a row: a signal, which Node delivers as a macrotask, would wait for
 * the whole command (a GC of 200k entries ran to its end after Ctrl-C). Here a fiber yields every
 * 64 operations and resumes from `setImmediate`, so a signal is seen between two statements; a
 * statement that runs long by itself is run in a child process (see ChildStatements.ts).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scheduler from "effect/Scheduler"
import { ExitCode } from "./CliErrors.js"

const macrotasks = Scheduler.makeBatched((drain) => void setImmediate(drain))

/** Operations between two yields to the event loop. */
const OPS_BEFORE_YIELD = 64

export const runAsProcess = (program: Effect.Effect<number, never, NodeContext.NodeContext>) => {
  NodeRuntime.runMain(
    program.pipe(
      Effect.provide(NodeContext.layer),
      Effect.withScheduler(macrotasks),
      Effect.withMaxOpsBeforeYield(OPS_BEFORE_YIELD)
    ),
    {
      disableErrorReporting: true,
      // Logs go to stderr through the CLI's own logger (see Cli.ts); stdout carries results only.
      disablePrettyLogger: true,
      teardown: (exit, onExit) => {
        const code = Exit.isSuccess(exit) ? Number(exit.value) : ExitCode.interrupted
        process.exitCode = code
        onExit(code)
      }
    }
  )
}
