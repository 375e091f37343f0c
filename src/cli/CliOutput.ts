/**
 * How the CLI talks: results on stdout (human text, or one JSON document with `--json`), progress
 * and errors on stderr. Progress redraws one line on a terminal and prints plain lines otherwise
 * (at most one a second per task, so a log file stays readable); with `--json` the plain lines are
 * left out, so scripts read a quiet stderr.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** Where text goes; the real one writes to the process streams. */
export interface Sink {
  readonly isTTY: boolean
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  /** Milliseconds, for throttling. */
  readonly now: () => number
}

export const processSink: Sink = {
  isTTY: process.stderr.isTTY === true,
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  now: () => Date.now()
}

export interface Progress {
  /** What is being done now; `done`/`total` draw a bar on a terminal and a count otherwise. */
  readonly update: (text: string, done?: number, total?: number) => Effect.Effect<void>
  /** The final line of the task (always printed, except in `--json` mode off a terminal). */
  readonly finish: (text: string) => Effect.Effect<void>
}

export interface CliOutputShape {
  readonly json: boolean
  /** Prints the command's result: `value` as JSON with `--json`, else `human(value)`. */
  readonly result: <A>(value: A, human: (value: A) => string) => Effect.Effect<void>
  /** A progress reporter for one long task, labelled `label` (e.g. "gc"). */
  readonly progress: (label: string) => Progress
  /** A warning or note for the operator, on stderr. */
  readonly note: (text: string) => Effect.Effect<void>
}

export class CliOutput extends Context.Tag("or3-provider-sqlite/cli/CliOutput")<CliOutput, CliOutputShape>() {}

const BAR = 24
const REDRAW_MS = 100
const PLAIN_MS = 1000

const bar = (done: number, total: number) => {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total))
  const filled = Math.round(ratio * BAR)
  return `[${"#".repeat(filled)}${"-".repeat(BAR - filled)}] ${Math.floor(ratio * 100)}%`
}

const counted = (text: string, done?: number, total?: number) =>
  done === undefined ? text : total === undefined ? `${text} (${done})` : `${text} (${done}/${total})`

/** A progress reporter over `sink`: a redrawn line on a terminal, throttled plain lines otherwise. */
export const makeProgress = (sink: Sink, label: string, quiet: boolean): Progress => {
  let last = -Infinity
  let drawn = false
  if (sink.isTTY) {
    return {
      update: (text, done, total) =>
        Effect.sync(() => {
          const now = sink.now()
          if (now - last < REDRAW_MS && !(total !== undefined && done === total)) return
          last = now
          drawn = true
          const line = `${label}: ${done !== undefined && total !== undefined ? `${text} ${bar(done, total)}` : counted(text, done)}`
          sink.err(`\r\x1b[2K${line.slice(0, 200)}`)
        }),
      finish: (text) =>
        Effect.sync(() => {
          sink.err(`${drawn ? "\r\x1b[2K" : ""}${label}: ${text}\n`)
          drawn = false
        })
    }
  }
  return {
    update: (text, done, total) =>
      Effect.sync(() => {
        if (quiet) return
        const now = sink.now()
        if (now - last < PLAIN_MS) return
        last = now
        sink.err(`${label}: ${counted(text, done, total)}\n`)
      }),
    finish: (text) => Effect.sync(() => (quiet ? undefined : sink.err(`${label}: ${text}\n`)))
  }
}

export const make = (options: { readonly json: boolean; readonly sink?: Sink }): CliOutputShape => {
  const sink = options.sink ?? processSink
  return {
    json: options.json,
    result: (value, human) =>
      Effect.sync(() => sink.out(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`)),
    progress: (label) => makeProgress(sink, label, options.json),
    note: (text) => Effect.sync(() => sink.err(`${text}\n`))
  }
}

export const layer = (options: { readonly json: boolean; readonly sink?: Sink }) =>
  Layer.succeed(CliOutput, make(options))

/** Bytes as the CLI prints them. */
export const formatBytes = (bytes: number | null | undefined): string => {
  if (bytes === null || bytes === undefined) return "-"
  if (bytes < 1024) return `${bytes} B`
  const units = ["KiB", "MiB", "GiB", "TiB"]
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
