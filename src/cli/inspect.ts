/** Entry point of `npm run inspect [path]`; see `inspectDatabase.ts`. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Logger, LogLevel } from "effect"
import { inspectCommand } from "./inspectDatabase.js"

inspectCommand(process.argv.slice(2)).pipe(Logger.withMinimumLogLevel(LogLevel.Warning), NodeRuntime.runMain)
