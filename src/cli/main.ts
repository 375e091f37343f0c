#!/usr/bin/env node
/** The `or3-sqlite` executable (package.json `bin`); see `Cli.ts`. */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { ExitCode } from "./CliErrors.js"
import { runCli } from "./Cli.js"

NodeRuntime.runMain(runCli(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  // Logs go to stderr through the CLI's own logger (see Cli.ts); stdout carries results only.
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    const code = Exit.isSuccess(exit) ? Number(exit.value) : ExitCode.interrupted
    process.exitCode = code
    onExit(code)
  }
})
