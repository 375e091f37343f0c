/**
 * A client's view of sync for the tests: the host's response checks (contract section 2), a device
 * that applies pulls and snapshots with LWW the way an OR3 client does, and the server's
 * materialized state in the same shape, so the two can be compared key by key.
 */
import { SqlClient } from "@effect/sql"
import { assert } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Limits } from "../../src/schema/limits.js"
import { SyncedTables, syncedTableNames, userOwnedTable } from "../../src/schema/tables.js"
import {
  PullResponse,
  type SnapshotItem,
  SnapshotResponse,
  type SyncChange
} from "../../src/schema/wire.js"
import { compareRevision, type Revision } from "../../src/services/sync/revision.js"
import { SyncGateway } from "../../src/services/SyncGateway.js"

/** One key's state as a client holds it. */
export interface KeyView {
  readonly deleted: boolean
  readonly revision: Revision
  readonly payload?: unknown
}

export type StateView = Map<string, KeyView>

export const keyOf = (tableName: string, pk: string) => `${tableName}/${pk}`

const hostKey = (item: SnapshotItem) => `${item.tableName}\u0000${item.pk}\u0000${item.kind}`

/** The host's SnapshotResponseSchema and getSnapshotResponseContractError, as assertions. */
export const checkSnapshotPage = (
  request: { readonly scope: { readonly workspaceId: string }; readonly pageSize: number },
  response: SnapshotResponse
) => {
  Schema.decodeUnknownSync(SnapshotResponse)(response)
  assert.strictEqual(response.workspaceId, request.scope.workspaceId)
  assert.isAtMost(response.items.length, Math.min(request.pageSize, Limits.maxPageSize))
  if (response.nextPageToken !== null) assert.isAtMost(response.nextPageToken.length, Limits.maxPageTokenLength)
  const seen = new Set<string>()
  for (let i = 0; i < response.items.length; i++) {
    const item = response.items[i]
    if (i > 0) assert.isTrue(hostKey(response.items[i - 1]) < hostKey(item), "items strictly ordered")
    const key = keyOf(item.tableName, item.pk)
    assert.isFalse(seen.has(key), `one entry per key: ${key}`)
    seen.add(key)
  }
}

/** The host's PullResponseSchema and getPullResponseContractError, as assertions. */
export const checkPull = (cursor: number, response: PullResponse) => {
  Schema.decodeUnknownSync(PullResponse)(response)
  assert.isAtLeast(response.nextCursor, cursor)
  if (response.hasMore) assert.isAbove(response.nextCursor, cursor)
  const opIds = new Set<string>()
  let previous = cursor
  for (const change of response.changes) {
    assert.isAbove(change.serverVersion, previous)
    assert.isAtMost(change.serverVersion, response.nextCursor)
    assert.isFalse(opIds.has(change.stamp.opId))
    opIds.add(change.stamp.opId)
    previous = change.serverVersion
  }
}

/** Applies one pulled change by LWW (an exact tie keeps what the device has). */
export const applyChange = (state: StateView, change: SyncChange) => {
  const key = keyOf(change.tableName, change.pk)
  const revision = { clock: change.stamp.clock, hlc: change.stamp.hlc, opId: change.stamp.opId }
  const current = state.get(key)
  if (current !== undefined && compareRevision(revision, current.revision) <= 0) return
  state.set(key, change.op === "put" ? { deleted: false, revision, payload: change.payload } : { deleted: true, revision })
}

export const applyItem = (state: StateView, item: SnapshotItem) =>
  state.set(
    keyOf(item.tableName, item.pk),
    item.kind === "row"
      ? { deleted: false, revision: item.revision, payload: item.payload }
      : { deleted: true, revision: item.revision }
  )

type Session = { readonly userId: string } | undefined

/** Reads every page of a new snapshot chain, checking each; returns the items and the watermark. */
export const readSnapshot = (
  workspaceId: string,
  session: Session,
  options: { readonly pageSize?: number; readonly tables?: ReadonlyArray<string> } = {}
) =>
  Effect.gen(function*() {
    const gateway = yield* SyncGateway
    const items: Array<SnapshotItem> = []
    const pages: Array<SnapshotResponse> = []
    let token: string | null | undefined = undefined
    do {
      const request = {
        scope: { workspaceId },
        pageSize: options.pageSize ?? 1000,
        ...(token === undefined ? {} : { pageToken: token }),
        ...(options.tables === undefined ? {} : { tables: options.tables })
      }
      const page: SnapshotResponse = yield* gateway.snapshot(request, session)
      checkSnapshotPage(request, page)
      if (pages.length > 0) {
        assert.strictEqual(page.snapshotId, pages[0].snapshotId)
        assert.strictEqual(page.highWatermark, pages[0].highWatermark)
      }
      pages.push(page)
      items.push(...page.items)
      token = page.nextPageToken
    } while (token !== null)
    const keys = items.map((item) => keyOf(item.tableName, item.pk))
    assert.strictEqual(new Set(keys).size, keys.length, "one entry per key across pages")
    return { items, pages, watermark: pages[0].highWatermark, snapshotId: pages[0].snapshotId }
  })

/** Pulls from `cursor` until `hasMore` is false, checking each response. */
export const pullAll = (workspaceId: string, session: Session, cursor: number, state: StateView, limit = 1000) =>
  Effect.gen(function*() {
    const gateway = yield* SyncGateway
    for (;;) {
      const response = yield* gateway.pull({ scope: { workspaceId }, cursor, limit }, session)
      checkPull(cursor, response)
      if (response.requiresSnapshot) return { cursor, requiresSnapshot: true }
      for (const change of response.changes) applyChange(state, change)
      cursor = response.nextCursor
      if (!response.hasMore) return { cursor, requiresSnapshot: false }
    }
  })

/** The server's materialized state as `userId` may see it: rows, and tombstones without a row. */
export const serverState = (workspaceId: string, userId: string | undefined) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const state: StateView = new Map()
    for (const table of syncedTableNames) {
      const owned = table === userOwnedTable
      const rows = yield* sql<{ pk: string; data_json: string; clock: number; hlc: string; op_id: string; deleted: number; owner_user_id: string | null }>`
        SELECT pk, data_json, clock, hlc, op_id, deleted, owner_user_id FROM ${sql(SyncedTables[table].sqlTable)}
        WHERE workspace_id = ${workspaceId}`
      for (const r of rows) {
        if (owned && r.owner_user_id !== userId) continue
        const revision = { clock: r.clock, hlc: r.hlc, opId: r.op_id }
        state.set(keyOf(table, r.pk), r.deleted === 1 ? { deleted: true, revision } : { deleted: false, revision, payload: JSON.parse(r.data_json) })
      }
      if (owned) continue
      const tombs = yield* sql<{ pk: string; clock: number; hlc: string; op_id: string }>`
        SELECT pk, clock, hlc, op_id FROM tombstones WHERE workspace_id = ${workspaceId} AND table_name = ${table}`
      for (const t of tombs) {
        if (!state.has(keyOf(table, t.pk))) {
          state.set(keyOf(table, t.pk), { deleted: true, revision: { clock: t.clock, hlc: t.hlc, opId: t.op_id } })
        }
      }
    }
    return state
  })

/** Both states as sorted plain objects, for a readable deepStrictEqual. */
export const sorted = (state: StateView) =>
  Object.fromEntries([...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/** The live keys of a state: a deleted key and a missing one look the same to a user. */
export const live = (state: StateView): StateView => new Map([...state].filter(([, view]) => !view.deleted))

/**
 * A device has converged when its live keys are exactly the server's (payload and revision), and
 * no key the server holds deleted is live on it. It may keep a tombstone the server has forgotten.
 *
 * `forgotten` (key -> revision of a delete tombstone GC forgot) names the one divergence GC is
 * allowed to cause (docs/sync.md, "What the window bounds"): once a delete is forgotten, a put for
 * its key is a new key to the server, while a device that still remembers the delete keeps
 * refusing a put that does not outrank it.
 */
export const assertConverged = (
  device: StateView,
  server: StateView,
  message: string,
  forgotten: ReadonlyMap<string, Revision> = new Map()
) => {
  const resurrected = (key: string) => {
    const mine = device.get(key)
    const theirs = server.get(key)
    return mine?.deleted === true && forgotten.has(key) &&
      compareRevision(mine.revision, forgotten.get(key)!) >= 0 &&
      (theirs === undefined || compareRevision(theirs.revision, mine.revision) < 0)
  }
  const keep = (state: StateView) => new Map([...live(state)].filter(([key]) => !resurrected(key)))
  assert.deepStrictEqual(sorted(keep(device)), sorted(keep(server)), message)
  for (const [key, view] of server) {
    if (view.deleted) assert.isFalse(device.get(key)?.deleted === false, `${message}: ${key} is deleted on the server`)
  }
}
