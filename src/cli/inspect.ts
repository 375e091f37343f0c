/** Entry point of `npm run inspect [path]`; see `inspectDatabase.ts`. */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { toExitCode } from "./CliErrors.js"
import { runAsProcess } from "./entry.js"
import { inspectCommand } from "./inspectDatabase.js"

runAsProcess(
  toExitCode(inspectCommand(process.argv.slice(2)), (line) => Effect.sync(() => void process.stderr.write(`${line}\n`))).pipe(
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
)
