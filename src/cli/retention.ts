/**
 * `gc --retention`: a duration like `30d`, `12h`, `90m`, `2w`, `3600s` or plain seconds, checked
 * against the host's window (`Limits.minRetentionSeconds` .. `Limits.maxRetentionSeconds`).
 */
import * as Effect from "effect/Effect"
import { Limits } from "../schema/limits.js"
import { CliError, ExitCode } from "./CliErrors.js"

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

export const parseRetention = (text: string): Effect.Effect<number, CliError> => {
  const match = /^\s*(\d+)\s*([smhdw]?)\s*$/i.exec(text)
  const usage = (reason: string) =>
    new CliError({ message: `--retention ${JSON.stringify(text)}: ${reason}`, exitCode: ExitCode.usage })
  if (match === null) return Effect.fail(usage("use a number of seconds or a duration like 30d, 12h, 90m, 2w"))
  const seconds = Number(match[1]) * unitSeconds[(match[2] || "s").toLowerCase()]
  if (!Number.isSafeInteger(seconds) || seconds < Limits.minRetentionSeconds || seconds > Limits.maxRetentionSeconds) {
    return Effect.fail(
      usage(
        `must be between ${Limits.minRetentionSeconds} s (1h) and ${Limits.maxRetentionSeconds} s (365d), got ${seconds} s`
      )
    )
  }
  return Effect.succeed(seconds)
}
