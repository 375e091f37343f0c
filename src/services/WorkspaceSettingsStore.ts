/**
 * WorkspaceSettingsStore: opaque string values per (workspace, key), for the OR3 admin pages and
 * plugins (`shared/or3-admin-contract.md` section 4). `compareAndSet` is one SQL statement, so it
 * is atomic against every writer of the file, other processes included: SQLite runs a statement
 * under its write lock from first read to last write. The host relies on that for plugin setup
 * revisions when several server processes share one database.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { SettingKey, SettingValue } from "../schema/admin.js"
import { decodeInput } from "../schema/decode.js"
import type { InvalidInput } from "../schema/errors.js"
import { Id } from "../schema/store.js"
import { nowMillis } from "./Ids.js"
import { onTestDatabase } from "./serviceLayers.js"
import { storageDefects } from "./workspace/common.js"

export interface WorkspaceSettingsStoreShape {
  /** The value, or null when the key was never set. */
  readonly get: (workspaceId: unknown, key: unknown) => Effect.Effect<string | null, InvalidInput>
  /** Sets the value; the last write wins. */
  readonly set: (workspaceId: unknown, key: unknown, value: unknown) => Effect.Effect<void, InvalidInput>
  /**
   * Sets `next` only if the current value is `expected` (`null`: only if the key is absent), and
   * says whether it did.
   */
  readonly compareAndSet: (
    workspaceId: unknown,
    key: unknown,
    expected: unknown,
    next: unknown
  ) => Effect.Effect<boolean, InvalidInput>
}

const decodeWorkspaceId = decodeInput(Id, "workspaceId")
const decodeKey = decodeInput(SettingKey, "key")
const decodeValue = decodeInput(SettingValue, "value")
const decodeExpected = decodeInput(SettingValue, "expected")

export const make: Effect.Effect<WorkspaceSettingsStoreShape, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const decodeSlot = (workspaceId: unknown, key: unknown) =>
    Effect.all({ workspaceId: decodeWorkspaceId(workspaceId), key: decodeKey(key) })

  const get = Effect.fn("WorkspaceSettingsStore.get")(function*(workspaceId: unknown, key: unknown) {
    const slot = yield* decodeSlot(workspaceId, key)
    const rows = yield* sql<{ value: string }>`
      SELECT value FROM workspace_settings WHERE workspace_id = ${slot.workspaceId} AND key = ${slot.key}`
    return rows.length === 0 ? null : rows[0].value
  }, storageDefects)

  const set = Effect.fn("WorkspaceSettingsStore.set")(function*(workspaceId: unknown, key: unknown, value: unknown) {
    const slot = yield* decodeSlot(workspaceId, key)
    const next = yield* decodeValue(value)
    const now = yield* nowMillis
    yield* sql`INSERT INTO workspace_settings ${
      sql.insert({ workspace_id: slot.workspaceId, key: slot.key, value: next, updated_at: now })
    } ON CONFLICT (workspace_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
  }, storageDefects)

  const compareAndSet = Effect.fn("WorkspaceSettingsStore.compareAndSet")(
    function*(workspaceId: unknown, key: unknown, expected: unknown, next: unknown) {
      const slot = yield* decodeSlot(workspaceId, key)
      const current = expected === null ? null : yield* decodeExpected(expected)
      const value = yield* decodeValue(next)
      const now = yield* nowMillis
      // RETURNING yields a row only when the statement wrote one: that is the answer.
      const written = current === null
        ? yield* sql`INSERT INTO workspace_settings ${
          sql.insert({ workspace_id: slot.workspaceId, key: slot.key, value, updated_at: now })
        } ON CONFLICT (workspace_id, key) DO NOTHING RETURNING key`
        : yield* sql`UPDATE workspace_settings SET value = ${value}, updated_at = ${now}
            WHERE workspace_id = ${slot.workspaceId} AND key = ${slot.key} AND value = ${current}
            RETURNING key`
      return written.length > 0
    },
    storageDefects
  )

  return { get, set, compareAndSet } satisfies WorkspaceSettingsStoreShape
})

export class WorkspaceSettingsStore extends Context.Tag("or3-provider-sqlite/services/WorkspaceSettingsStore")<
  WorkspaceSettingsStore,
  WorkspaceSettingsStoreShape
>() {
  /** The store over the SqlClient in context (it needs no ids). */
  static readonly DefaultWithoutDependencies: Layer.Layer<WorkspaceSettingsStore, never, SqlClient.SqlClient> = Layer
    .effect(WorkspaceSettingsStore, make)

  /** Needs a (migrated) SqlClient. */
  static readonly Default: Layer.Layer<WorkspaceSettingsStore, never, SqlClient.SqlClient> =
    WorkspaceSettingsStore.DefaultWithoutDependencies

  /** A private, migrated in-memory database; the SqlClient is exposed too. */
  static readonly Test: Layer.Layer<WorkspaceSettingsStore | SqlClient.SqlClient> = onTestDatabase(
    WorkspaceSettingsStore.DefaultWithoutDependencies
  )
}
