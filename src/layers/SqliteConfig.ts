/**
 * The SQLite settings, read through Effect `Config` from the variables OR3 operators already know
 * (`OR3_SQLITE_*`), validated, and resolved to one file path or `:memory:`.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { ConfigInvalid } from "../schema/errors.js"

export const journalModes = ["WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY", "OFF"] as const
export type JournalMode = (typeof journalModes)[number]

export const synchronousModes = ["FULL", "NORMAL", "EXTRA", "OFF"] as const
export type SynchronousMode = (typeof synchronousModes)[number]

/** Settings as given (variables or options); `resolveSqliteSettings` checks and completes them. */
export interface SqliteOptions {
  readonly path?: string | undefined
  readonly strict?: boolean | undefined
  readonly allowInMemory?: boolean | undefined
  readonly journalMode?: string | undefined
  readonly synchronous?: string | undefined
  readonly busyTimeoutMs?: number | undefined
  /** Checkpoint the WAL from a worker thread instead of on commit (file databases in WAL mode). */
  readonly backgroundCheckpoint?: boolean | undefined
  /** True under a test runner: a missing path then means an in-memory database. */
  readonly isTest?: boolean | undefined
}

/** Settings after validation. */
export interface SqliteSettings {
  readonly path: string
  readonly inMemory: boolean
  readonly journalMode: JournalMode
  readonly synchronous: SynchronousMode
  readonly busyTimeoutMs: number
  readonly backgroundCheckpoint: boolean
}

export const MEMORY_PATH = ":memory:"

/** A variable that may be unset; a blank value counts as unset. */
export const optionalString = (name: string) =>
  Config.string(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => value.trim() !== "")),
    Config.map(Option.getOrUndefined)
  )

const truthy = new Set(["true", "yes", "on", "1"])
const falsy = new Set(["false", "no", "off", "0"])

/**
 * A yes/no variable: `true/false`, `yes/no`, `on/off`, `1/0`, in any case (`TRUE` as well as
 * `true`; Effect's `Config.boolean` takes lower case only). Anything else is an error naming it.
 */
export const flagConfig = (name: string): Config.Config<boolean> =>
  Config.string(name).pipe(
    Config.mapOrFail((text) => {
      const value = text.trim().toLowerCase()
      return truthy.has(value)
        ? Either.right(true)
        : falsy.has(value)
        ? Either.right(false)
        : Either.left(ConfigError.InvalidData([], `expected true/false, yes/no, on/off or 1/0, got "${text}"`))
    })
  )

const optionalBoolean = (name: string) => flagConfig(name).pipe(Config.option, Config.map(Option.getOrUndefined))

/** `OR3_SQLITE_*` and the test-runner markers, as raw options. */
export const sqliteOptionsFromEnv: Config.Config<SqliteOptions> = Config.all({
  path: optionalString("OR3_SQLITE_DB_PATH"),
  strict: optionalBoolean("OR3_SQLITE_STRICT"),
  allowInMemory: optionalBoolean("OR3_SQLITE_ALLOW_IN_MEMORY"),
  journalMode: optionalString("OR3_SQLITE_PRAGMA_JOURNAL_MODE"),
  synchronous: optionalString("OR3_SQLITE_PRAGMA_SYNCHRONOUS"),
  busyTimeoutMs: Config.integer("OR3_SQLITE_BUSY_TIMEOUT_MS").pipe(Config.option, Config.map(Option.getOrUndefined)),
  backgroundCheckpoint: optionalBoolean("OR3_SQLITE_BACKGROUND_CHECKPOINT"),
  isTest: Config.all([optionalString("NODE_ENV"), optionalString("VITEST")]).pipe(
    Config.map(([nodeEnv, vitest]) => nodeEnv === "test" || (vitest !== undefined && vitest !== "false" && vitest !== "0"))
  )
})

/** The first leaf of a `ConfigError`: the variable it names and what was wrong with it. */
const firstConfigProblem = (error: ConfigError.ConfigError): { readonly variable: string; readonly reason: string } =>
  error._op === "And" || error._op === "Or"
    ? firstConfigProblem(error.left)
    : { variable: error.path.join("."), reason: error.message }

/** A Config failure as the `ConfigInvalid` every start-up error is: the variable, and what was wrong. */
export const toConfigInvalid = (error: ConfigError.ConfigError) => new ConfigInvalid(firstConfigProblem(error))

/**
 * `sqliteOptionsFromEnv`, with a malformed variable (`OR3_SQLITE_STRICT=maybe`,
 * `OR3_SQLITE_BUSY_TIMEOUT_MS=abc`) reported as `ConfigInvalid` naming it, like every other start-up error.
 */
export const readSqliteOptionsFromEnv: Effect.Effect<SqliteOptions, ConfigInvalid> = Effect.mapError(
  sqliteOptionsFromEnv,
  (error) => toConfigInvalid(error)
)

const pick = <A extends string>(
  variable: string,
  allowed: ReadonlyArray<A>,
  value: string | undefined,
  fallback: A
): Effect.Effect<A, ConfigInvalid> => {
  if (value === undefined) return Effect.succeed(fallback)
  const upper = value.trim().toUpperCase()
  const found = allowed.find((mode) => mode === upper)
  return found === undefined
    ? Effect.fail(new ConfigInvalid({ variable, reason: `must be one of ${allowed.join(", ")}, got "${value}"` }))
    : Effect.succeed(found)
}

/**
 * Checks the options and decides the path. Pragma values are matched against allow-lists, so they
 * can be written into a PRAGMA statement without being interpolated raw.
 */
export const resolveSqliteSettings = Effect.fn("SqliteConfig.resolve")(function*(options: SqliteOptions) {
  const journalMode = yield* pick("OR3_SQLITE_PRAGMA_JOURNAL_MODE", journalModes, options.journalMode, "WAL")
  const synchronous = yield* pick("OR3_SQLITE_PRAGMA_SYNCHRONOUS", synchronousModes, options.synchronous, "FULL")
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    return yield* new ConfigInvalid({
      variable: "OR3_SQLITE_BUSY_TIMEOUT_MS",
      reason: `must be a whole number of milliseconds >= 0, got ${busyTimeoutMs}`
    })
  }
  // A blank path (possible through options; the variable reader drops it) means "not given".
  const given = options.path?.trim() || undefined
  const wantsMemory = given === undefined || given === MEMORY_PATH
  if (options.strict === true && given === undefined) {
    return yield* new ConfigInvalid({
      variable: "OR3_SQLITE_DB_PATH",
      reason: "is required when OR3_SQLITE_STRICT=true; set it to a database file such as /var/lib/or3/or3.sqlite"
    })
  }
  if (options.strict === true && wantsMemory) {
    return yield* new ConfigInvalid({
      variable: "OR3_SQLITE_STRICT",
      reason: "OR3_SQLITE_STRICT=true forbids an in-memory database; set OR3_SQLITE_DB_PATH to a file path"
    })
  }
  if (wantsMemory && options.isTest !== true && options.allowInMemory !== true) {
    return yield* new ConfigInvalid({
      variable: "OR3_SQLITE_DB_PATH",
      reason:
        "is required outside tests; set it to a database file, or set OR3_SQLITE_ALLOW_IN_MEMORY=true to accept losing all data on restart"
    })
  }
  if (wantsMemory && options.isTest !== true) {
    yield* Effect.logWarning(
      "OR3_SQLITE_ALLOW_IN_MEMORY=true: the database lives in memory and every user, workspace and change is lost on restart"
    )
  }
  return {
    path: wantsMemory ? MEMORY_PATH : given,
    inMemory: wantsMemory,
    // An in-memory database keeps its journal in memory whatever is asked.
    journalMode: wantsMemory ? "MEMORY" : journalMode,
    synchronous,
    busyTimeoutMs,
    backgroundCheckpoint: !wantsMemory && journalMode === "WAL" && options.backgroundCheckpoint !== false
  } satisfies SqliteSettings
})
