/**
 * The `SqlClient` of the server, over one better-sqlite3 connection, written for the per-call cost
 * of polling (a device pulls every ~2 s, mostly empty; an edit pushes 1-3 ops):
 *
 * - statements are prepared once per text and kept in a plain `Map` (the upstream driver looks
 *   them up in an Effect `Cache` and toggles raw mode around every value read);
 * - `withTransaction` is `BEGIN IMMEDIATE`, the program, `COMMIT` (or `ROLLBACK`), with savepoints
 *   when nested, the same contract as `@effect/sql`'s, without a scope, a clock read and a span per
 *   transaction: the span exists only when a tracer is installed (`Spans.ts`);
 * - a direct path (`directValuesOf`, which DirectSql uses) runs a statement without the template
 *   pipeline (compile, span, acquire) that costs ~25 us per statement here.
 *
 * Who may use the connection: a transaction holds it from BEGIN to COMMIT, across the yields of its
 * program, so that no other fiber's statement runs inside it; transactions run one after another.
 * A statement outside a transaction runs synchronously, so it only needs no transaction to be open
 * at that moment, else it waits for the one that is.
 *
 * The upstream `@effect/sql-sqlite-node` client stays where speed does not matter (the CLI's
 * backup reads a file with it).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import type Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { isTraced } from "./Spans.js"

/** Runs one statement and returns its rows as value arrays, in column order. */
export type DirectValues = (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError>

/** The direct path of each client this module made (see `directValuesOf`). */
const directPaths = new WeakMap<SqlClient.SqlClient, DirectValues>()

/** The direct statement path of `sql` when this module made it, else undefined (libSQL, tests). */
export const directValuesOf = (sql: SqlClient.SqlClient): DirectValues | undefined => directPaths.get(sql)

/** Statements kept prepared; far more than the package's distinct texts. */
const MAX_PREPARED = 512

type Prepared = Database.Statement<Array<unknown>, unknown>

/** The connection, as `@effect/sql` drives it, with statements prepared once per text and mode. */
const makeConnection = (db: Database.Database) => {
  const rows = new Map<string, Prepared>()
  const values = new Map<string, Prepared>()
  const prepare = (cache: Map<string, Prepared>, sql: string, raw: boolean) => {
    let statement = cache.get(sql)
    if (statement === undefined) {
      if (cache.size >= MAX_PREPARED) cache.delete(cache.keys().next().value!)
      statement = db.prepare(sql)
      if (raw && statement.reader) statement.raw(true)
      cache.set(sql, statement)
    }
    return statement
  }
  const attempt = <A>(run: () => A): Effect.Effect<A, SqlError> =>
    Effect.try({ try: run, catch: (cause) => new SqlError({ cause, message: "Failed to execute statement" }) })
  const all = (statement: Prepared, params: ReadonlyArray<unknown>) => {
    if (statement.reader) return statement.all(...params) as ReadonlyArray<any>
    statement.run(...params)
    return []
  }
  /** Rows as value arrays, synchronously: what the direct path and `executeValues` run. */
  const valuesSync = (sql: string, params: ReadonlyArray<unknown>) =>
    all(prepare(values, sql, true), params) as ReadonlyArray<ReadonlyArray<unknown>>
  const connection: Connection = {
    execute: (sql, params, transformRows) =>
      attempt(() => {
        const result = all(prepare(rows, sql, false), params)
        return transformRows === undefined ? result : transformRows(result)
      }),
    executeRaw: (sql, params) =>
      attempt(() => {
        const statement = prepare(rows, sql, false)
        return statement.reader ? statement.all(...params) : statement.run(...params)
      }),
    executeValues: (sql, params) => attempt(() => valuesSync(sql, params)),
    executeUnprepared: (sql, params, transformRows) =>
      attempt(() => {
        const result = all(db.prepare(sql), params)
        return transformRows === undefined ? result : transformRows(result)
      }),
    executeStream: () => Stream.dieMessage("executeStream is not implemented for SQLite")
  }
  return { connection, valuesSync, attempt }
}

/**
 * The transaction a fiber is in, by depth: -1 outside one, 0 in the outermost, n in savepoint n.
 * A FiberRef rather than `SqlClient.TransactionConnection` in the fiber's context, as the generic
 * client does: changing the context costs ~9 us per call here, a FiberRef ~1 us. Template
 * statements find the connection through the acquirer, which reads it.
 */
export const transactionDepth = FiberRef.unsafeMake(-1)

/**
 * Who holds the connection: one transaction at a time. Taking it is synchronous when it is free
 * (the common case); a waiter is woken when it is released and takes it when it runs, so a waiter
 * interrupted in between never holds it. Every waiter is woken and one wins; no order is promised.
 */
const makeLock = () => {
  let held = false
  const waiters = new Set<() => void>()
  /** Takes the connection if it is free. */
  const tryTake = () => (held ? false : (held = true))
  const take: Effect.Effect<void> = Effect.suspend(function attempt(): Effect.Effect<void> {
    if (tryTake()) return Effect.void
    return Effect.async<void>((resume) => {
      const wake = () => {
        waiters.delete(wake)
        resume(Effect.suspend(attempt))
      }
      waiters.add(wake)
      return Effect.sync(() => void waiters.delete(wake))
    })
  })
  const release = () => {
    held = false
    for (const wake of [...waiters]) wake()
  }
  return {
    isFree: () => !held,
    tryTake,
    take,
    release,
    /** Waits until no transaction holds the connection. */
    free: Effect.uninterruptibleMask((restore) => Effect.zipRight(restore(take), Effect.sync(release)))
  }
}

/**
 * The client over `db`: template statements through `@effect/sql` (its compiler and `Statement`
 * API, which the services, the migrator and the CLI use), the transactions and the direct path of
 * this module.
 */
export const make = (db: Database.Database): Effect.Effect<SqlClient.SqlClient, never, Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const { attempt, connection, valuesSync } = makeConnection(db)
    const lock = makeLock()
    /** `effect` where it may use the connection: in this fiber's transaction, or once none is open. */
    const onConnection = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.withFiberRuntime<A, E, R>((fiber) =>
        fiber.getFiberRef(transactionDepth) >= 0 || lock.isFree() ? effect : Effect.zipRight(lock.free, effect)
      )

    const run = (sql: string) => attempt(() => valuesSync(sql, []))
    /**
     * Runs `self` in the fiber at `depth`, then ends the transaction with `end` (COMMIT or
     * ROLLBACK; a failure of it is a defect, as upstream). The depth is set and restored by the
     * same handler that ends the transaction: `Effect.locally` wraps its own acquire/release
     * around the program, which cost five times a BEGIN.
     */
    const inTransaction = <A, E, R>(
      self: Effect.Effect<A, E, R>,
      depth: number,
      restore: <X, Y, Z>(self: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
      end: (exit: Exit.Exit<A, E>) => void
    ): Effect.Effect<A, E, R> =>
      Effect.zipRight(
        FiberRef.set(transactionDepth, depth),
        Effect.flatMap(Effect.exit(restore(self)), (exit) =>
          Effect.zipRight(
            FiberRef.set(transactionDepth, depth - 1),
            Effect.suspend(() => {
              try {
                end(exit)
              } catch (cause) {
                const message = `Failed to end a transaction (${Exit.isSuccess(exit) ? "commit" : "rollback"})`
                return Effect.die(new SqlError({ cause, message }))
              }
              return exit
            })
          ))
      )
    // BEGIN and COMMIT run synchronously around the program: each Effect step here costs about
    // as much as the BEGIN itself.
    const outermost = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.uninterruptibleMask((restore) => {
        const begin = Effect.suspend((): Effect.Effect<A, E | SqlError, R> => {
          try {
            valuesSync("BEGIN IMMEDIATE", [])
          } catch (cause) {
            lock.release()
            return Effect.fail(new SqlError({ cause, message: "Failed to begin a transaction" }))
          }
          return inTransaction(self, 0, restore, (exit) => {
            try {
              if (Exit.isSuccess(exit)) valuesSync("COMMIT", [])
              // SQLite ends a transaction by itself on some errors (SQLITE_FULL, SQLITE_IOERR, a
              // read-only file): a ROLLBACK then would fail with "no transaction is active" and
              // hide the statement's own error ("database or disk is full") from the operator.
              else if (db.inTransaction) valuesSync("ROLLBACK", [])
            } finally {
              lock.release()
            }
          })
        })
        return lock.tryTake() ? begin : Effect.zipRight(restore(lock.take), begin)
      })
    const nested = <A, E, R>(self: Effect.Effect<A, E, R>, id: number): Effect.Effect<A, E | SqlError, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          run(`SAVEPOINT effect_sql_${id}`),
          inTransaction(self, id, restore, (exit) => {
            if (Exit.isFailure(exit)) valuesSync(`ROLLBACK TO SAVEPOINT effect_sql_${id}`, [])
          })
        )
      )
    const withTransaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.withFiberRuntime((fiber) => {
        const depth = fiber.getFiberRef(transactionDepth)
        const transaction = depth >= 0 ? nested(self, depth + 1) : outermost(self)
        return isTraced(fiber)
          ? Effect.withSpan(transaction, "sql.transaction", {
            kind: "client",
            captureStackTrace: false,
            attributes: { "db.system.name": "sqlite" }
          })
          : transaction
      })

    const client = yield* SqlClient.make({
      acquirer: onConnection(Effect.succeed(connection)),
      // `sql.reserve`: the connection held for the caller's scope, as a transaction holds it.
      transactionAcquirer: Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          restore(lock.take),
          Effect.flatMap(Effect.scope, (scope) => Effect.as(Scope.addFinalizer(scope, Effect.sync(lock.release)), connection))
        )
      ),
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]]
    })
    // The services call `sql.withTransaction`: this one, not the generic one of `SqlClient.make`.
    const sql: SqlClient.SqlClient = Object.assign(client, { withTransaction })
    directPaths.set(sql, (text, params) => onConnection(attempt(() => valuesSync(text, params))))
    return sql
  })
