/**
 * snapshot (snapshot-v1): pages of a workspace's state at one pinned watermark. The first page
 * pins W and records the chain; later pages are named by an opaque token. Nothing is copied: see
 * `./snapshotPage.ts` for how the state at W is read while pushes continue.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { traced } from "../../layers/Spans.js"
import { decodeInput } from "../../schema/decode.js"
import { Forbidden, InvalidInput, SnapshotExpired, Unauthenticated } from "../../schema/errors.js"
import { Limits } from "../../schema/limits.js"
import { isSyncedTable, type SyncedTableName, syncedTableNames } from "../../schema/tables.js"
import { type SessionUser, type SnapshotItem, SnapshotRequest, type SnapshotResponse } from "../../schema/wire.js"
import { Ids, nowMillis } from "../Ids.js"
import { currentItem, type PageScope, readCandidates, walkBack } from "./snapshotPage.js"
import { decodeToken, encodeToken } from "./snapshotToken.js"

const decodeRequest = decodeInput(SnapshotRequest, "snapshot")

/** All synced tables in page order (their names are ASCII, so every order agrees). */
const allTables = [...syncedTableNames].sort()

interface ChainRow {
  id: string
  workspace_id: string
  user_id: string
  high_watermark: number
  tables_key: string
  expires_at: number
}

/** The host's item order: the JS string `tableName \0 pk \0 kind`, compared by UTF-16 units. */
const hostKey = (item: SnapshotItem) => `${item.tableName}\u0000${item.pk}\u0000${item.kind}`
const byHostKey = (a: SnapshotItem, b: SnapshotItem) => {
  const x = hostKey(a)
  const y = hostKey(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** The requested tables, deduplicated and in page order; none or `[]` means every table. */
const tableFilter = (tables: ReadonlyArray<string> | undefined) => {
  if (tables === undefined || tables.length === 0) return Effect.succeed({ tables: allTables, key: "*" })
  const unknown = tables.find((table) => !isSyncedTable(table))
  if (unknown !== undefined) {
    return Effect.fail(new InvalidInput({ field: "snapshot.tables", reason: `unknown table ${unknown}` }))
  }
  const chosen = allTables.filter((table) => tables.includes(table))
  return Effect.succeed({ tables: chosen, key: chosen.join(",") })
}

export const makeSnapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const ids = yield* Ids

  /**
   * Pins W = the head and records the chain in one `BEGIN IMMEDIATE` transaction: GC runs in the
   * same lock, so from the moment W is read GC sees the chain and keeps the history it walks
   * (docs/sync.md GC rules 2-4). Expired chains of the workspace are dropped on the way.
   */
  const startChain = Effect.fnUntraced(function*(workspaceId: string, userId: string, tablesKey: string) {
    const id = yield* ids.uuid
    return yield* sql.withTransaction(Effect.gen(function*() {
      const now = yield* nowMillis
      const [head] = yield* sql<{ head: number }>`SELECT head FROM sync_heads WHERE workspace_id = ${workspaceId}`
      const watermark = head?.head ?? 0
      yield* sql`DELETE FROM snapshots WHERE workspace_id = ${workspaceId} AND expires_at <= ${now}`
      yield* sql`
        INSERT INTO snapshots (id, workspace_id, user_id, high_watermark, tables_key, created_at, expires_at)
        VALUES (${id}, ${workspaceId}, ${userId}, ${watermark}, ${tablesKey}, ${now},
                ${now + Limits.snapshotTtlSeconds * 1000})`
      return { id, watermark }
    }))
  })

  /** The chain a token names, if this user may continue it in this workspace with this filter. */
  const openChain = Effect.fnUntraced(function*(
    snapshotId: string,
    workspaceId: string,
    userId: string,
    tablesKey: string
  ) {
    const [chain] = yield* sql<ChainRow>`
      SELECT id, workspace_id, user_id, high_watermark, tables_key, expires_at FROM snapshots WHERE id = ${snapshotId}`
    if (chain === undefined) return yield* new SnapshotExpired({ snapshotId })
    const forbidden = (reason: string) =>
      new Forbidden({ userId, workspaceId, action: "continue a snapshot", reason })
    if (chain.workspace_id !== workspaceId) return yield* forbidden("Snapshot token belongs to another workspace")
    if (chain.user_id !== userId) return yield* forbidden("Snapshot token belongs to another user")
    if (chain.expires_at <= (yield* nowMillis)) return yield* new SnapshotExpired({ snapshotId })
    if (chain.tables_key !== tablesKey) {
      return yield* new InvalidInput({ field: "snapshot.tables", reason: "must not change between pages of a snapshot" })
    }
    return { id: chain.id, watermark: chain.high_watermark }
  })

  /**
   * The first `pageSize` keys after `after` that exist at W and the caller may see, plus whether
   * one more exists (the next token names the last key served). A page depends only on the token
   * and the state at W, so a retried token returns the same page whatever was pushed since.
   */
  const readPage = Effect.fnUntraced(function*(
    scope: PageScope,
    snapshotId: string,
    after: { readonly tableName: SyncedTableName; readonly pk: string } | undefined,
    pageSize: number
  ) {
    const items: Array<SnapshotItem> = []
    const want = pageSize + 1
    const first = after === undefined ? 0 : scope.tables.indexOf(after.tableName)
    for (let i = first; i < scope.tables.length && items.length < want; i++) {
      const table = scope.tables[i]
      let from = after !== undefined && i === first ? after.pk : undefined
      while (items.length < want) {
        const need = want - items.length
        const candidates = yield* readCandidates(sql, scope, table, from, need)
        const changed = candidates.filter((c) => c.server_version > scope.watermark)
        const walked = yield* walkBack(sql, scope, table, changed.map((c) => ({ pk: c.pk, version: c.server_version })))
        for (const c of candidates) {
          if (c.server_version <= scope.watermark) {
            items.push(currentItem(table, c))
            continue
          }
          const state = walked.get(c.pk)!
          if (state._tag === "Lost") return yield* new SnapshotExpired({ snapshotId })
          if (state._tag === "Item") items.push(state.item)
        }
        if (candidates.length < need) break
        from = candidates[candidates.length - 1].pk
      }
    }
    const page = items.slice(0, pageSize)
    const last = page[page.length - 1]
    const next = items.length > pageSize ? encodeToken({ snapshotId, tableName: last.tableName, pk: last.pk }) : null
    // SQL walks pks in code-point order; the host checks UTF-16 order within a page (they differ
    // for astral characters vs U+E000..U+FFFF, and for pks holding NUL): sort the page its way.
    return { items: page.sort(byHostKey), nextPageToken: next }
  })

  /**
   * One page of a snapshot chain. Without a session user there is no owner to bind the chain to
   * (and no notifications to show): the caller is Unauthenticated (401), as for `updateCursor`.
   */
  const snapshot = Effect.fnUntraced(function*(input: unknown, session?: SessionUser) {
    const request = yield* decodeRequest(input)
    const { tables, key } = yield* tableFilter(request.tables)
    const { workspaceId } = request.scope
    if (session === undefined) return yield* new Unauthenticated({ action: "read a snapshot" })
    let chain: { readonly id: string; readonly watermark: number }
    let after: { readonly tableName: SyncedTableName; readonly pk: string } | undefined
    if (request.pageToken === undefined) {
      chain = yield* startChain(workspaceId, session.userId, key)
    } else {
      const position = decodeToken(request.pageToken)
      if (Option.isNone(position)) {
        return yield* new InvalidInput({ field: "snapshot.pageToken", reason: "is not a snapshot page token" })
      }
      chain = yield* openChain(position.value.snapshotId, workspaceId, session.userId, key)
      const tableName = tables.find((table) => table === position.value.tableName)
      if (tableName === undefined) {
        return yield* new InvalidInput({ field: "snapshot.pageToken", reason: "names a table outside the snapshot" })
      }
      after = { tableName, pk: position.value.pk }
    }
    const scope: PageScope = { workspaceId, watermark: chain.watermark, tables, userId: session.userId }
    const page = yield* readPage(scope, chain.id, after, request.pageSize)
    return {
      workspaceId,
      snapshotId: chain.id,
      highWatermark: chain.watermark,
      items: page.items,
      nextPageToken: page.nextPageToken
    } satisfies SnapshotResponse
  }, Effect.catchTag("SqlError", Effect.die), traced("SyncGateway.snapshot"))

  return { snapshot }
})
