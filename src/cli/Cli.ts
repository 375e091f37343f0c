/**
 * The `or3-sqlite` command: migrate, status, gc, backup, restore, verify, vacuum. Every command
 * reads the same `OR3_SQLITE_*` variables as the server, plus `--db` and `--json`. Logs go through
 * Effect's logger, annotated `package=or3-sqlite`, to stderr (warnings and up; `--log-level`
 * changes it), so stdout carries only results. `--help` is ours (help.ts); `@effect/cli` parses.
 */
import { Command } from "@effect/cli"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Fs from "node:fs"
import { CliError, ExitCode, toExitCode } from "./CliErrors.js"
import { backupCommand } from "./commands/backup.js"
import { gcCommand } from "./commands/gc.js"
import { migrateCommand } from "./commands/migrate.js"
import { restoreCommand } from "./commands/restore.js"
import { statusCommand } from "./commands/status.js"
import { vacuumCommand } from "./commands/vacuum.js"
import { verifyCommand } from "./commands/verify.js"
import { commands, helpText, refusedBuiltins } from "./help.js"

export const rootCommand = Command.make("or3-sqlite").pipe(
  Command.withSubcommands([
    migrateCommand,
    statusCommand,
    gcCommand,
    backupCommand,
    restoreCommand,
    verifyCommand,
    vacuumCommand
  ])
)

const version = (() => {
  try {
    const pkg = JSON.parse(Fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    return typeof pkg.version === "string" ? pkg.version : "0.0.0"
  } catch {
    return "0.0.0"
  }
})()

const run = Command.run(rootCommand, { name: "or3-sqlite", version })

const stderrLogger = Logger.withConsoleError(Logger.logfmtLogger)

const wantsHelp = (args: ReadonlyArray<string>) => args.length === 0 || args.includes("--help") || args.includes("-h")

/**
 * The program for `args`: our own help (see help.ts), a refusal of `@effect/cli`'s built-in
 * `--wizard` and `--completions`, or the command.
 */
const program = (argv: ReadonlyArray<string>): Effect.Effect<void, unknown, CliEnvironment> => {
  const args = argv.slice(2)
  if (wantsHelp(args)) {
    const command = args.find((arg) => arg in commands)
    return Effect.sync(() => void process.stdout.write(`${helpText(command, version)}\n`))
  }
  const refused = args.find((arg) => refusedBuiltins.includes(arg.split("=")[0]))
  if (refused !== undefined) {
    return Effect.fail(new CliError({ message: `unknown option ${refused} (see or3-sqlite --help)`, exitCode: ExitCode.usage }))
  }
  return run(argv)
}

type CliEnvironment = Effect.Effect.Context<ReturnType<typeof run>>

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, args...) to an exit code. Never fails:
 * an error becomes one line on stderr and its code (see `ExitCode`).
 */
export const runCli = (argv: ReadonlyArray<string>, printError: (line: string) => Effect.Effect<void> = (line) =>
  Effect.sync(() => void process.stderr.write(`${line}\n`))) =>
  toExitCode(program(argv), printError).pipe(
    Effect.annotateLogs("package", "or3-sqlite"),
    Effect.provide(Logger.replace(Logger.defaultLogger, stderrLogger)),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
