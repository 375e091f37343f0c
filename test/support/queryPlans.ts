/**
 * Captures the statements a program runs (through @effect/sql's statement transformer and the
 * direct statements' observer) and checks
 * their `EXPLAIN QUERY PLAN`: no full scan of the change log, the tombstones or the s_* tables.
 */
import { SqlClient, Statement } from "@effect/sql"
import { Effect } from "effect"
import * as DirectSql from "../../src/layers/DirectSql.js"

export interface Captured {
  readonly sql: string
  readonly params: ReadonlyArray<unknown>
}

/** Runs `effect` and returns its value with every statement it executed. */
export const captureStatements = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const captured: Array<Captured> = []
    return effect.pipe(
      Effect.locally(DirectSql.currentObserver, (sql, params) => captured.push({ sql, params })),
      Statement.withTransformer((statement, _sql, _context, _span) => {
        const [sql, params] = statement.compile()
        captured.push({ sql, params })
        return Effect.succeed(statement)
      }),
      Effect.map((value) => ({ value, captured }))
    )
  })

const fullScan = /^SCAN (change_log|tombstones|device_cursors|snapshots|sync_heads|s_[a-z_]+)$/

/** The plan lines of each captured data statement that scan a whole sync table. */
export const fullScans = (captured: ReadonlyArray<Captured>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const found: Array<{ sql: string; plan: string }> = []
    for (const statement of captured) {
      if (!/^\s*(WITH|SELECT|INSERT|UPDATE|DELETE)/i.test(statement.sql)) continue
      const plan = yield* Statement.withTransformerDisabled(
        sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement.sql}`, statement.params)
      )
      for (const row of plan) {
        if (fullScan.test(row.detail.trim())) found.push({ sql: statement.sql, plan: row.detail })
      }
    }
    return found
  })
