/** Entry point of `npm run inspect [path]`; see `inspectDatabase.ts`. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { inspectCommand } from "./inspectDatabase.js"

inspectCommand(process.argv.slice(2)).pipe(Logger.withMinimumLogLevel(LogLevel.Warning), NodeRuntime.runMain)
