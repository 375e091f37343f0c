/**
 * The one place where a facade leaves Effect: run a program on the provider's ManagedRuntime,
 * log server faults through Effect's logger (one line each), and turn the failure into the h3
 * error the host passes through to the client.
 */
import type * as Context from "effect/Context"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import { traced } from "../layers/Spans.js"
import { causeToH3Error, isServerFault } from "./H3Errors.js"

/**
 * One line for the operator's log: the SQLite error under a SQL failure (`SQLITE_READONLY: attempt
 * to write a readonly database`, `SQLITE_FULL: database or disk is full`), which `@effect/sql`
 * wraps in a generic "Failed to execute statement", else the error's message. The full cause, with
 * its stack, is logged at debug level only: a full disk must not cost ten lines per push.
 */
const faultSummary = (cause: Cause.Cause<unknown>): string => {
  if (Cause.isInterruptedOnly(cause)) return "interrupted"
  // In order: the statement's error first, then any that followed (SQLite rolls back by itself on
  // SQLITE_FULL, so the ROLLBACK that follows fails too).
  const errors = [...Cause.failures(cause), ...Cause.defects(cause)].map((error) => {
    const e = error as { _tag?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } }
    const inner = e?._tag === "SqlError" ? e.cause : undefined
    return inner?.message !== undefined
      ? `${inner.code === undefined ? "" : `${String(inner.code)}: `}${String(inner.message)}`
      : String(e?.message ?? e)
  })
  const [first, ...then] = [...new Set(errors)]
  return first === undefined ? "unknown" : then.length === 0 ? first : `${first} (then ${then.join("; ")})`
}

/** Runs `program` as facade operation `operation` (a span when traced; its failure logged with that name). */
export type Runner<R> = <A, E>(operation: string, program: Effect.Effect<A, E, R>) => Promise<A>

export const makeRunner =
  <R, ER>(runtime: ManagedRuntime.ManagedRuntime<R, ER>): Runner<R> =>
  <A, E>(operation: string, program: Effect.Effect<A, E, R>): Promise<A> =>
    runtime
      .runPromiseExit(
        program.pipe(
          // Annotated here rather than around the whole call: annotating costs a FiberRef change
          // (two, with the restore) on every call, and only a failure is logged here.
          Effect.tapErrorCause((cause) =>
            (isServerFault(cause)
              ? Effect.zipRight(
                Effect.logError(`${operation} failed: ${faultSummary(cause)}`),
                Effect.logDebug(`${operation} failed`, cause)
              )
              : Effect.logDebug(`${operation} rejected`, cause)).pipe(
                Effect.annotateLogs({ package: "or3-sqlite", operation })
              )
          ),
          traced(`or3.${operation}`)
        )
      )
      .then((exit) => {
        if (Exit.isSuccess(exit)) return exit.value
        throw causeToH3Error(exit.cause)
      })

/**
 * A runner for the methods of one service: `call("getUser", (store) => store.getUser(input))`
 * runs as operation `<name>.getUser`. Each facade method is one such call.
 */
export const serviceCaller =
  <I, S>(run: Runner<I>, tag: Context.Tag<I, S>, name: string) =>
  <A, E>(method: keyof S & string, body: (service: S) => Effect.Effect<A, E>): Promise<A> =>
    run(`${name}.${method}`, Effect.flatMap(tag, body))

/**
 * Services return readonly arrays (Schema types); the host's interfaces declare mutable ones.
 * The arrays are fresh per call and never shared, so handing them over as mutable is safe: this
 * is the one audited cast.
 */
export const asMutable = <A>(items: ReadonlyArray<A>): Array<A> => items as Array<A>
