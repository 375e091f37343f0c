/**
 * Group commit for push. One connection takes one write transaction at a time, so concurrent
 * pushes queue anyway; here the ones that queued while a transaction ran share the next one, and
 * with it one `BEGIN IMMEDIATE` and one COMMIT (one WAL sync under `synchronous=FULL`).
 *
 * Each program is still its own `sql.withTransaction`: alone it is the transaction, in a group it
 * is a savepoint, so a program that fails rolls back alone and the others commit. No caller hears
 * back before the COMMIT that makes its writes durable; if that COMMIT fails, every program of the
 * group fails with it. Programs run one after another in the order they arrived, so each sees the
 * writes of those before it, exactly as if they had run in separate transactions.
 *
 * An uncontended push runs in its caller's fiber with no queue at all. Only when it finds a
 * transaction under way does it queue; the caller that finishes a transaction hands the queue to
 * a fiber of its own, so no caller waits for other callers' groups.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** The most programs one transaction takes (pushes carry at most 100 ops each). */
export const MAX_GROUP = 32

interface Queued {
  readonly program: Effect.Effect<unknown, unknown>
  readonly done: Deferred.Deferred<unknown, unknown>
}

export interface GroupCommit {
  /**
   * Runs `program` in a write transaction, possibly shared with other programs; a BEGIN or COMMIT
   * that fails fails the program with its `SqlError`.
   */
  readonly run: <A, E>(program: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError.SqlError>
}

export const make = (sql: SqlClient.SqlClient): GroupCommit => {
  const queue: Array<Queued> = []
  let busy = false

  const runGroup = (group: ReadonlyArray<Queued>): Effect.Effect<void> => {
    if (group.length === 1) {
      return Effect.flatMap(Effect.exit(sql.withTransaction(group[0].program)), (exit) => Deferred.done(group[0].done, exit))
    }
    const exits: Array<Exit.Exit<unknown, unknown>> = []
    const each = Effect.forEach(
      group,
      ({ program }) => Effect.map(Effect.exit(sql.withTransaction(program)), (exit) => void exits.push(exit)),
      { discard: true }
    )
    return Effect.flatMap(
      Effect.exit(sql.withTransaction(each)),
      (outer) => Effect.forEach(group, ({ done }, i) => Deferred.done(done, Exit.isSuccess(outer) ? exits[i] : outer), { discard: true })
    )
  }

  const drain: Effect.Effect<void> = Effect.suspend(() => {
    const group = queue.splice(0, MAX_GROUP)
    if (group.length === 0) {
      busy = false
      return Effect.void
    }
    return Effect.zipRight(runGroup(group), drain)
  })

  /** After a transaction: the queue goes to a fiber of its own, or the connection is free again. */
  const handOff = Effect.suspend(() => {
    if (queue.length > 0) return Effect.asVoid(Effect.forkDaemon(drain))
    busy = false
    return Effect.void
  })

  const run = <A, E>(program: Effect.Effect<A, E>): Effect.Effect<A, E | SqlError.SqlError> =>
    Effect.suspend(() => {
      if (!busy) {
        busy = true
        return Effect.ensuring(sql.withTransaction(program), handOff)
      }
      return Effect.flatMap(Deferred.make<A, E | SqlError.SqlError>(), (done) => {
        queue.push({ program, done } as Queued)
        return Deferred.await(done)
      })
    })

  return { run }
}
