/**
 * Fixtures for the AuthWorkspaceStore tests: a fresh migrated in-memory store per test, users,
 * a dump of the auth/workspace tables for "nothing changed" checks, and failure injection.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { layerSqlMemory } from "../../src/layers/Migrations.js"
import { AuthWorkspaceStore } from "../../src/services/AuthWorkspaceStore.js"
import { Ids } from "../../src/services/Ids.js"

/** Runs a test body on its own fresh database. */
export const withStore = <A, E>(body: Effect.Effect<A, E, AuthWorkspaceStore | SqlClient.SqlClient>) =>
  Effect.provide(body, AuthWorkspaceStore.Test)

/**
 * Ids that yield to other fibers before answering. Every create path takes an id between its
 * "does it exist?" read and its insert, so concurrent callers interleave exactly there: without a
 * write transaction around check-and-insert they would all insert.
 */
const interleavingIds = Layer.effect(
  Ids,
  Effect.map(Ids, (ids) => ({ uuid: Effect.zipRight(Effect.yieldNow(), ids.uuid) }))
).pipe(Layer.provide(Ids.Test))

/** Like `withStore`, with ids that make concurrent calls interleave (see `interleavingIds`). */
export const withInterleavingStore = <A, E>(body: Effect.Effect<A, E, AuthWorkspaceStore | SqlClient.SqlClient>) =>
  Effect.provide(
    body,
    AuthWorkspaceStore.DefaultWithoutDependencies.pipe(
      Layer.provide(interleavingIds),
      Layer.provideMerge(layerSqlMemory),
      Layer.orDie
    )
  )

/** A user for the identity `test/<name>`, with email `<name>@example.com`. */
export const user = (name: string) =>
  Effect.flatMap(AuthWorkspaceStore, (store) =>
    Effect.map(
      store.getOrCreateUser({ provider: "test", providerUserId: name, email: `${name}@example.com` }),
      (created) => created.userId
    ))

/** A user with a default workspace; returns both ids. */
export const userWithWorkspace = (name: string) =>
  Effect.gen(function*() {
    const store = yield* AuthWorkspaceStore
    const userId = yield* user(name)
    const { workspaceId } = yield* store.getOrCreateDefaultWorkspace(userId)
    return { userId, workspaceId }
  })

const tables = ["users", "auth_accounts", "workspaces", "workspace_members", "workspace_invites"] as const

/** Every row of the auth and workspace tables, in a stable order. */
export const dumpTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const dump: Record<string, ReadonlyArray<unknown>> = {}
  for (const table of tables) {
    dump[table] = yield* sql`SELECT * FROM ${sql(table)} ORDER BY 1, 2`
  }
  return dump
})

export const countRows = (table: (typeof tables)[number]) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ n: number }>`SELECT count(*) AS n FROM ${sql(table)}`, ([row]) => row.n))

/**
 * Makes every `event` (`INSERT` or `UPDATE`) on `table` fail with `RAISE(ABORT)`, as a crash at
 * that step would; returns the effect that removes the trigger again.
 */
export const failOn = (event: "INSERT" | "UPDATE", table: (typeof tables)[number]) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const trigger = `inject_${event.toLowerCase()}_${table}`
    yield* sql`CREATE TEMP TRIGGER ${sql(trigger)} BEFORE ${sql.literal(event)} ON ${sql(table)}
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END`
    return sql`DROP TRIGGER ${sql(trigger)}`.pipe(Effect.asVoid, Effect.orDie)
  }).pipe(Effect.orDie)

/** A value as it may arrive over the wire, whatever the method's parameter type says. */
export const wire = (value: unknown): never => value as never
