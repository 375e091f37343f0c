/**
 * The CLI's failures and how each ends the process: one line on stderr and an exit code. Expected
 * errors (bad flags, configuration, a missing file, findings) never print a stack trace.
 */
import { ValidationError } from "@effect/cli"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** Exit codes; `exitCodeMeanings` says what each means (the help's table, docs/operators.md). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  findings: 3,
  interrupted: 130
} as const

/** What each exit code means, as `or3-sqlite --help` lists them. */
export const exitCodeMeanings: Readonly<Record<keyof typeof ExitCode, string>> = {
  ok: "done",
  failed: "the command could not do its work (configuration, I/O, SQL, a failed check)",
  usage: "bad usage (unknown command, bad flag or value)",
  findings: "verify found problems (they are the output)",
  interrupted: "interrupted (Ctrl-C, SIGTERM): the unit of work in flight was rolled back, no partial file left"
}

/** An expected failure with the line the operator reads. */
export class CliError extends Data.TaggedError("CliError")<{
  readonly message: string
  readonly exitCode?: number
}> {}

/** `verify` found problems; they were already printed. */
export class FindingsFound extends Data.TaggedError("FindingsFound")<{ readonly count: number }> {}

const hints: Record<string, string> = {
  OR3_SQLITE_DB_PATH: " (or pass --db <path>)",
  OR3_SQLITE_LIBSQL_URL: " (or pass --db <url>)"
}

/** The one line and the exit code for a failure of the program. */
export const describeFailure = (error: unknown): { readonly line: string | undefined; readonly code: number } => {
  if (ValidationError.isValidationError(error)) {
    // @effect/cli has printed the usage error already.
    return { line: undefined, code: ExitCode.usage }
  }
  if (error instanceof FindingsFound) {
    return { line: `verify: ${error.count} finding${error.count === 1 ? "" : "s"}`, code: ExitCode.findings }
  }
  if (error instanceof CliError) return { line: error.message, code: error.exitCode ?? ExitCode.failed }
  const tagged = error as { _tag?: string; message?: string; variable?: string }
  if (tagged?._tag === "ConfigInvalid") {
    return { line: `${tagged.message}${hints[tagged.variable ?? ""] ?? ""}`, code: ExitCode.failed }
  }
  if (tagged?._tag === "SqlError") {
    const cause = (error as { cause?: { message?: string } }).cause
    return { line: `SQLite: ${cause?.message ?? tagged.message}`, code: ExitCode.failed }
  }
  if (error instanceof Error || typeof tagged?.message === "string") {
    return { line: String(tagged.message), code: ExitCode.failed }
  }
  return { line: String(error), code: ExitCode.failed }
}

/**
 * Runs the program to an exit code: failures become their one line on stderr; a defect (a bug)
 * prints its message, and its full cause only with `--log-level debug`.
 */
export const toExitCode = <R>(
  program: Effect.Effect<void, unknown, R>,
  printError: (line: string) => Effect.Effect<void>
): Effect.Effect<number, never, R> =>
  program.pipe(
    Effect.as(ExitCode.ok as number),
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.succeed(ExitCode.interrupted as number)
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const { code, line } = describeFailure(failure.value)
        return Effect.as(line === undefined ? Effect.void : printError(`or3-sqlite: ${line}`), code)
      }
      const defect = Cause.squash(cause)
      const { line } = describeFailure(defect)
      return Effect.logDebug("unexpected failure", cause).pipe(
        Effect.zipRight(printError(`or3-sqlite: unexpected error: ${line ?? "unknown"}`)),
        Effect.as(ExitCode.failed as number)
      )
    })
  )
