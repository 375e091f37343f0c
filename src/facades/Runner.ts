/**
 * The one place where a facade leaves Effect: run a program on the provider's ManagedRuntime,
 * log server faults through Effect's logger, and turn the failure into the h3 error the host
 * passes through to the client.
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import { causeToH3Error, isServerFault } from "./H3Errors.js"

/** Runs `program` as facade operation `operation` (a span and log annotation). */
export type Runner<R> = <A, E>(operation: string, program: Effect.Effect<A, E, R>) => Promise<A>

export const makeRunner =
  <R, ER>(runtime: ManagedRuntime.ManagedRuntime<R, ER>): Runner<R> =>
  <A, E>(operation: string, program: Effect.Effect<A, E, R>): Promise<A> =>
    runtime
      .runPromiseExit(
        program.pipe(
          Effect.tapErrorCause((cause) =>
            isServerFault(cause)
              ? Effect.logError(`${operation} failed`, cause)
              : Effect.logDebug(`${operation} rejected`, cause)
          ),
          Effect.withSpan(`or3.${operation}`),
          Effect.annotateLogs({ package: "or3-sqlite", operation })
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
