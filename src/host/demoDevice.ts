/**
 * A simulated OR3 client device for the demo: a local copy of the workspace, an outbox of
 * pending ops, and a cursor. It applies every incoming record with the host's LWW rule (clock,
 * then hlc, then opId; an exact tie keeps what is there), so pulls, push winners and snapshot
 * pages can arrive in any order and still leave it with the server's state.
 */
import { randomUUID } from "node:crypto"
import type { PendingOp, PullResponse, PushResult, SnapshotResponse } from "../or3/types.js"
import type { HostClient } from "./HostClient.js"

export interface Revision {
  readonly clock: number
  readonly hlc: string
  readonly opId: string
}

export interface LocalRecord {
  readonly tableName: string
  readonly pk: string
  readonly deleted: boolean
  readonly payload?: Record<string, unknown>
  readonly revision: Revision
}

/** `compareSyncRevision` (contract 1): > 0 when `a` wins. */
export const compareRevision = (a: Revision, b: Revision): number =>
  a.clock !== b.clock
    ? a.clock - b.clock
    : a.hlc !== b.hlc
    ? (a.hlc < b.hlc ? -1 : 1)
    : a.opId === b.opId
    ? 0
    : a.opId < b.opId
    ? -1
    : 1

export const recordKey = (tableName: string, pk: string) => `${tableName}/${pk}`

export interface SyncReport {
  pushed: number
  lost: number
  pulled: number
  snapshotPages: number
}

const PULL_LIMIT = 50
const SNAPSHOT_PAGE_SIZE = 2

export const makeDevice = (options: {
  readonly name: string
  readonly client: HostClient
  readonly workspaceId: string
  /** Wall time in ms; the demo's clock, so HLCs order the story the same way on every run. */
  readonly now: () => number
}) => {
  const deviceId = `${options.name}-${randomUUID().slice(0, 8)}`
  const records = new Map<string, LocalRecord>()
  const outbox: Array<PendingOp> = []
  const scope = { workspaceId: options.workspaceId }
  let cursor = 0
  let hlcMillis = 0
  let hlcCounter = 0

  const nextHlc = () => {
    const now = options.now()
    if (now > hlcMillis) [hlcMillis, hlcCounter] = [now, 0]
    else hlcCounter++
    return `${String(hlcMillis).padStart(15, "0")}:${String(hlcCounter).padStart(5, "0")}:${deviceId}`
  }

  /** Keeps `incoming` if it beats what is stored; true when it did. */
  const apply = (incoming: LocalRecord): boolean => {
    const key = recordKey(incoming.tableName, incoming.pk)
    const current = records.get(key)
    if (current !== undefined && compareRevision(incoming.revision, current.revision) <= 0) return false
    records.set(key, incoming)
    return true
  }

  const write = (tableName: string, pk: string, operation: "put" | "delete", fields?: Record<string, unknown>) => {
    const current = records.get(recordKey(tableName, pk))
    const clock = (current?.revision.clock ?? 0) + 1
    const revision = { clock, hlc: nextHlc(), opId: randomUUID() }
    const now = options.now()
    const payload = operation === "put"
      ? { ...current?.payload, created_at: current?.payload?.created_at ?? now, ...fields, updated_at: now, clock }
      : undefined
    apply({ tableName, pk, deleted: operation === "delete", ...(payload ? { payload } : {}), revision })
    outbox.push({
      id: randomUUID(),
      tableName,
      operation,
      pk,
      ...(payload ? { payload } : {}),
      stamp: { deviceId, opId: revision.opId, hlc: revision.hlc, clock },
      createdAt: now,
      attempts: 0,
      status: "pending"
    })
  }

  const expect = <A>(what: string, response: { status: number; body: unknown }): A => {
    if (response.status !== 200) throw new Error(`${options.name}: ${what} answered ${response.status} ${JSON.stringify(response.body)}`)
    return response.body as A
  }

  const push = async (report: SyncReport) => {
    if (outbox.length === 0) return
    const ops = outbox.splice(0, outbox.length)
    const result = expect<PushResult>("push", await options.client.post("/api/sync/push", { scope, ops }))
    result.results.forEach((item, i) => {
      const op = ops[i]
      if (!item.success) throw new Error(`${options.name}: op ${item.opId} rejected: ${item.errorCode} ${item.error}`)
      report.pushed++
      if (item.applied !== false || item.winner === undefined) return
      // Lost LWW: the server says who won; adopt it (a later pull would bring it too).
      report.lost++
      const winner = item.winner
      apply({
        tableName: op.tableName,
        pk: op.pk,
        deleted: winner.kind === "delete",
        ...(winner.kind === "put" ? { payload: winner.payload } : {}),
        revision: winner.revision
      })
    })
  }

  /**
   * Rebuilds the copy from a snapshot: the snapshot replaces it (a record it lacks, such as one
   * whose delete the server forgot, is dropped). It runs after the push, so nothing is pending.
   */
  const bootstrap = async (report: SyncReport) => {
    const rebuilt = new Map<string, LocalRecord>()
    let pageToken: string | null = null
    let highWatermark = 0
    do {
      const request: Record<string, unknown> = { scope, pageSize: SNAPSHOT_PAGE_SIZE }
      if (pageToken !== null) request.pageToken = pageToken
      const page = expect<SnapshotResponse>("snapshot", await options.client.post("/api/sync/snapshot", request))
      report.snapshotPages++
      for (const item of page.items) {
        rebuilt.set(recordKey(item.tableName, item.pk), {
          tableName: item.tableName,
          pk: item.pk,
          deleted: item.kind === "tombstone",
          ...(item.kind === "row" ? { payload: item.payload as Record<string, unknown> } : {}),
          revision: item.revision
        })
      }
      highWatermark = page.highWatermark
      pageToken = page.nextPageToken
    } while (pageToken !== null)
    records.clear()
    for (const [key, record] of rebuilt) records.set(key, record)
    cursor = highWatermark
  }

  const pull = async (report: SyncReport) => {
    for (;;) {
      const response = expect<PullResponse>(
        "pull",
        await options.client.post("/api/sync/pull", { scope, cursor, limit: PULL_LIMIT })
      )
      if (response.requiresSnapshot) {
        // The server forgot a delete this device may not have seen: rebuild, then go on.
        await bootstrap(report)
        continue
      }
      for (const change of response.changes) {
        report.pulled++
        apply({
          tableName: change.tableName,
          pk: change.pk,
          deleted: change.op === "delete",
          ...(change.op === "put" ? { payload: change.payload as Record<string, unknown> } : {}),
          revision: { clock: change.stamp.clock, hlc: change.stamp.hlc, opId: change.stamp.opId }
        })
      }
      cursor = response.nextCursor
      if (!response.hasMore) return
    }
  }

  return {
    name: options.name,
    deviceId,
    records: records as ReadonlyMap<string, LocalRecord>,
    cursor: () => cursor,
    pending: () => outbox.length,
    put: (tableName: string, pk: string, fields: Record<string, unknown>) => write(tableName, pk, "put", fields),
    remove: (tableName: string, pk: string) => write(tableName, pk, "delete"),
    /** Pushes the outbox, then pulls until caught up. */
    sync: async (): Promise<SyncReport> => {
      const report = { pushed: 0, lost: 0, pulled: 0, snapshotPages: 0 }
      await push(report)
      await pull(report)
      return report
    },
    /** Tells the server how far this device has read, so GC knows what it still needs. */
    reportCursor: async () => {
      expect("update-cursor", await options.client.post("/api/sync/update-cursor", { scope, deviceId, version: cursor }))
    }
  }
}

export type Device = ReturnType<typeof makeDevice>
