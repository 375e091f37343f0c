/**
 * Statements for the hot paths of push and pull, run on the connection directly.
 *
 * A tagged-template statement of `@effect/sql` compiles its template, opens a span and acquires
 * a connection on every execution: about 25 us here, where a cached SQLite statement runs in
 * 2-4 us. Inside `sql.withTransaction` the connection is already held, so these statements go to
 * it straight through `Connection.executeValues`; outside one they take the client's direct path
 * (`BetterSqliteClient.directValues`), which waits only while a transaction holds the connection.
 * Both keep prepared statements by their SQL text, so the text must be fixed: lists are bound as
 * one JSON parameter (`json_each`) and multi-row writes come in a few fixed sizes (`multiRow`,
 * `writeRows`). A client without a direct path (libSQL) runs them as template statements.
 *
 * A direct statement is an `sql.execute` span, as a template statement is, when a tracer is
 * installed (OR3_SQLITE_OTEL, or a test's); with Effect's built-in tracer, which exports nothing,
 * the span is skipped.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { directValuesOf } from "./BetterSqliteClient.js"
import { isTraced } from "./Spans.js"

export interface DirectSql {
  /** Runs one statement and returns its rows as value arrays, in column order. */
  readonly values: <Row extends ReadonlyArray<unknown>>(
    sql: string,
    params: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError>
}

/**
 * Sees every direct statement before it runs (the query-plan tests use it, as they use
 * `Statement.withTransformer` for template statements).
 */
export const currentObserver = FiberRef.unsafeMake<((sql: string, params: ReadonlyArray<unknown>) => void) | undefined>(
  undefined
)

/** Direct statements over `sql`: its direct path when it has one (BetterSqliteClient), else as above. */
export const make = (sql: SqlClient.SqlClient): DirectSql => {
  const direct = directValuesOf(sql)
  const values = (text: string, params: ReadonlyArray<unknown>) =>
    Effect.withFiberRuntime<ReadonlyArray<ReadonlyArray<unknown>>, SqlError.SqlError>((fiber) => {
      fiber.getFiberRef(currentObserver)?.(text, params)
      let run: Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError.SqlError>
      if (direct !== undefined) {
        run = direct(text, params)
      } else {
        // Without a direct path (libSQL): the held connection, else the template path (which
        // opens its own span).
        const held = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
        if (Option.isNone(held)) return sql.unsafe(text, params).values
        run = held.value[0].executeValues(text, params)
      }
      return isTraced(fiber)
        ? Effect.withSpan(run, "sql.execute", {
          kind: "client",
          captureStackTrace: false,
          attributes: { "db.system.name": "sqlite", "db.query.text": text }
        })
        : run
    })
  return { values: values as DirectSql["values"] }
}

/** The largest multi-row write, in rows. */
export const MAX_CHUNK = 64

/**
 * A multi-row statement: `text(n)` is its SQL for `n` rows of `columns` values, built once per
 * size. `writeRows` splits the rows into power-of-two chunks (64, 32, ..., 1, largest first), so the
 * statement has at most seven texts and every one of them stays prepared.
 */
export interface MultiRow {
  readonly columns: number
  readonly text: (rows: number) => string
}

/** `statement` receives the `VALUES` list for its rows: `(?, ?), (?, ?)`. */
export const multiRow = (columns: number, statement: (values: string) => string): MultiRow => {
  const group = `(${Array.from({ length: columns }, () => "?").join(", ")})`
  const texts = new Map<number, string>()
  return {
    columns,
    text: (rows) => {
      let text = texts.get(rows)
      if (text === undefined) texts.set(rows, (text = statement(Array.from({ length: rows }, () => group).join(", "))))
      return text
    }
  }
}

/** Writes `rows` (each `statement.columns` values long) with as few statements as the chunks allow. */
export const writeRows = (
  direct: DirectSql,
  statement: MultiRow,
  rows: ReadonlyArray<ReadonlyArray<unknown>>
): Effect.Effect<void, SqlError.SqlError> =>
  Effect.suspend(() => {
    const writes: Array<Effect.Effect<unknown, SqlError.SqlError>> = []
    let offset = 0
    for (let size = MAX_CHUNK; offset < rows.length; size >>= 1) {
      while (rows.length - offset >= size) {
        const params = new Array<unknown>(size * statement.columns)
        let at = 0
        for (let i = offset; i < offset + size; i++) for (const value of rows[i]) params[at++] = value
        writes.push(direct.values(statement.text(size), params))
        offset += size
      }
    }
    return Effect.all(writes, { discard: true })
  })
