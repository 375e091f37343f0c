/**
 * `npm run bench:libsql`: what one statement costs on libSQL (`file:`) against better-sqlite3, raw
 * and through the Effect SqlClient, and what a 20-op push costs on each, with the number of
 * statements a push runs inside its write transaction. That count is what a remote sqld / Turso
 * primary multiplies by the network round trip while it holds the write lock.
 *
 *   node bench/libsql.mjs [--n=2000] [--pushes=200]
 * It imports the built package (dist/): the npm script builds first. Prints a table, then one JSON
 * line per measurement: {"driver","metric","value","unit"}.
 */
import { createClient } from "@libsql/client"
import Database from "better-sqlite3"
import { Effect, Layer, Logger, LogLevel, Tracer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Libsql from "../dist/layers/Libsql.js"
import * as Migrations from "../dist/layers/Migrations.js"
import * as Sqlite from "../dist/layers/Sqlite.js"
import { SyncGateway } from "../dist/services/SyncGateway.js"
import { SqlClient } from "@effect/sql"

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, "").split("=")))
const N = Number(args.n ?? 2000)
const PUSHES = Number(args.pushes ?? 200)
const dir = mkdtempSync(join(tmpdir(), "or3-libsql-bench-"))
const results = []
const record = (driver, metric, value, unit) => results.push({ driver, metric, value: Number(value.toFixed(2)), unit })

const time = async (f) => {
  const start = process.hrtime.bigint()
  await f()
  return Number(process.hrtime.bigint() - start) / 1000
}

/** Microseconds an effect takes. */
const timed = (effect) =>
  Effect.gen(function*() {
    const start = process.hrtime.bigint()
    yield* effect
    return Number(process.hrtime.bigint() - start) / 1000
  })

// Raw drivers: the floor each Effect client sits on.
{
  const path = join(dir, "raw-better.sqlite")
  const db = new Database(path)
  db.pragma("journal_mode = WAL")
  db.exec("CREATE TABLE t (pk TEXT PRIMARY KEY, v TEXT)")
  const insert = db.prepare("INSERT INTO t VALUES (?, ?)")
  const select = db.prepare("SELECT v FROM t WHERE pk = ?")
  const write = await time(() => db.transaction(() => { for (let i = 0; i < N; i++) insert.run(`k${i}`, "v") })())
  const read = await time(() => { for (let i = 0; i < N; i++) select.get(`k${i}`) })
  const begin = await time(() => { for (let i = 0; i < 200; i++) { db.exec("BEGIN IMMEDIATE"); db.exec("COMMIT") } })
  record("better-sqlite3 raw", "insert in a transaction", write / N, "us/statement")
  record("better-sqlite3 raw", "point read", read / N, "us/statement")
  record("better-sqlite3 raw", "empty write transaction (BEGIN IMMEDIATE + COMMIT)", begin / 200, "us/transaction")
  db.close()
}
{
  const client = createClient({ url: `file:${join(dir, "raw-libsql.sqlite")}` })
  await client.execute("PRAGMA journal_mode = WAL")
  await client.execute("CREATE TABLE t (pk TEXT PRIMARY KEY, v TEXT)")
  const write = await time(async () => {
    const tx = await client.transaction("write")
    for (let i = 0; i < N; i++) await tx.execute({ sql: "INSERT INTO t VALUES (?, ?)", args: [`k${i}`, "v"] })
    await tx.commit()
  })
  const read = await time(async () => {
    for (let i = 0; i < N; i++) await client.execute({ sql: "SELECT v FROM t WHERE pk = ?", args: [`k${i}`] })
  })
  const begin = await time(async () => {
    for (let i = 0; i < 200; i++) await (await client.transaction("write")).commit()
  })
  record("libsql raw", "insert in a transaction", write / N, "us/statement")
  record("libsql raw", "point read", read / N, "us/statement")
  record("libsql raw", "empty write transaction (BEGIN IMMEDIATE + COMMIT, new connection after)", begin / 200, "us/transaction")
  client.close()
}

// The Effect SqlClient and the whole push, on each of this package's layers.
let seq = 0
const op = (pk, clock) => ({
  id: `row-${++seq}`,
  tableName: "messages",
  operation: "put",
  pk,
  payload: { id: pk, text: "x".repeat(200), clock },
  stamp: { deviceId: "bench", opId: `20000000-0000-4000-8000-${(++seq).toString(16).padStart(12, "0")}`, hlc: `${clock}`, clock },
  createdAt: 1,
  attempts: 0,
  status: "pending"
})

const layers = {
  "better-sqlite3": Sqlite.layerFile(join(dir, "effect-better.sqlite")),
  libsql: Libsql.layerUrl(`file:${join(dir, "effect-libsql.sqlite")}`)
}

for (const [driver, sqlLayer] of Object.entries(layers)) {
  const program = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const gateway = yield* SyncGateway
    yield* sql`CREATE TABLE t (pk TEXT PRIMARY KEY, v TEXT)`
    const range = Array.from({ length: N }, (_, i) => i)
    // Warm-up: JIT and the prepared-statement cache.
    yield* Effect.forEach(range.slice(0, 200), () => sql`SELECT 1`, { discard: true })
    const write = yield* timed(sql.withTransaction(
      Effect.forEach(range, (i) => sql`INSERT INTO t VALUES (${`k${i}`}, 'v')`, { discard: true })
    ))
    const read = yield* timed(Effect.forEach(range, (i) => sql`SELECT v FROM t WHERE pk = ${`k${i}`}`, { discard: true }))
    record(`${driver} via Effect`, "insert in a transaction", write / N, "us/statement")
    record(`${driver} via Effect`, "point read", read / N, "us/statement")

    // Statements a push runs inside its transaction, counted from the spans.
    let statements = 0
    const counting = Tracer.make({
      span: (name, parent, context, links, startTime, kind) => {
        if (name === "sql.execute") statements++
        return {
          _tag: "Span", name, spanId: `${Math.random()}`, traceId: "bench", parent, context, links: [...links],
          status: { _tag: "Started", startTime }, attributes: new Map(), sampled: true, kind,
          end: () => {}, attribute: () => {}, event: () => {}, addLinks: () => {}
        }
      },
      context: (f) => f()
    })
    yield* gateway.push({ scope: { workspaceId: "ws" }, ops: Array.from({ length: 20 }, (_, i) => op(`warm-${i}`, 1)) })
    yield* gateway.push({ scope: { workspaceId: "ws" }, ops: Array.from({ length: 20 }, (_, i) => op(`warm-${i}`, 2)) }).pipe(
      Effect.withTracer(counting)
    )
    record(driver, "statements in one 20-op push (all in the write transaction)", statements, "statements")
    const pushes = yield* timed(Effect.forEach(Array.from({ length: PUSHES }, (_, i) => i), (i) =>
      gateway.push({ scope: { workspaceId: "ws" }, ops: Array.from({ length: 20 }, (_, j) => op(`p-${i % 10}-${j}`, i + 3)) }),
    { discard: true }))
    record(driver, "20-op push", pushes / PUSHES / 1000, "ms/push")
  })
  await Effect.runPromise(
    program.pipe(
      Effect.provide(SyncGateway.Default.pipe(Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(sqlLayer))))),
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  )
}

rmSync(dir, { recursive: true, force: true })
const width = Math.max(...results.map((r) => `${r.driver}  ${r.metric}`.length))
for (const r of results) console.log(`${`${r.driver}  ${r.metric}`.padEnd(width)}  ${String(r.value).padStart(9)} ${r.unit}`)
for (const r of results) console.log(JSON.stringify(r))
