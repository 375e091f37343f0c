/**
 * Two client replicas for convergence tests, each a device's local copy plus an outbox:
 *
 * - `or3-2026-02`: the OR3 client's sync engine as its 2026-02 tree behaves (facts read from its
 *   `app/core/sync`; the code here is written from those facts, not copied):
 *   1. it reads its local rows and tombstones once per pulled page, so every change of a page is
 *      compared with the rows as they were before the page;
 *   2. a local edit does not record its hlc on the row, so an equal-clock remote change always
 *      beats it; a row written from a remote change keeps that change's hlc;
 *   3. a put is skipped when the device holds a tombstone whose clock is at least the put's,
 *      whatever the hlc; a remote delete soft-deletes the local row and writes a tombstone that
 *      keeps the highest clock seen; a winning put clears an older tombstone;
 *   a hard delete removes the row and writes a tombstone with the delete's clock, which is the
 *   row's clock + 1; it drops the echo of its own ops (by opId).
 * - `contract`: last writer wins on (clock, hlc, opId) exactly as the contract orders revisions,
 *   with fresh reads per change and full revisions on rows and tombstones. It ignores push-result
 *   `winner`s (hosts whose schema strips them exist), so it converges only through pulls.
 *
 * Both rebuild from a snapshot when a pull says `requiresSnapshot`.
 */
import type { SnapshotItem, SyncChange } from "../../src/schema/wire.js"
import { compareRevision, compareText, type Revision } from "../../src/services/sync/revision.js"
import type { GeneratedOp } from "../reliability/fixtures/ops.mjs"

export type ReplicaKind = "or3-2026-02" | "contract"

/** A local row: the payload as the device holds it, and what it knows of the row's revision. */
export interface LocalRow {
  readonly payload: Record<string, unknown>
  readonly clock: number
  /** Absent on a 2026-02 row last written by a local edit. */
  readonly hlc: string | undefined
  readonly opId: string | undefined
  /** Soft-deleted by a remote delete (the 2026-02 client keeps the row, marked). */
  readonly deleted: boolean
}

export interface LocalTomb {
  readonly clock: number
  readonly hlc: string | undefined
  readonly opId: string | undefined
}

/** An outbox op as the OR3 client queues it: the shape the reliability suites generate too. */
export type PendingOp = GeneratedOp

export const keyOf = (tableName: string, pk: string) => `${tableName}/${pk}`

const revisionOf = (change: SyncChange): Revision => ({
  clock: change.stamp.clock,
  hlc: change.stamp.hlc,
  opId: change.stamp.opId
})

/** A device: its kind, its copy, its outbox and its cursor. Time and op ids come from the test. */
export const makeReplica = (id: string, kind: ReplicaKind) => {
  const rows = new Map<string, LocalRow>()
  const tombs = new Map<string, LocalTomb>()
  const own = new Set<string>()
  let outbox: Array<PendingOp> = []
  let hlcCounter = 0

  const nextHlc = (now: number) => `${String(now).padStart(13, "0")}-${String(++hlcCounter).padStart(6, "0")}-${id}`

  /** The revision a contract replica holds for a key (row, else tombstone). */
  const held = (key: string): Revision | undefined => {
    const row = rows.get(key)
    if (row !== undefined) return { clock: row.clock, hlc: row.hlc ?? "", opId: row.opId ?? "" }
    const tomb = tombs.get(key)
    return tomb && { clock: tomb.clock, hlc: tomb.hlc ?? "", opId: tomb.opId ?? "" }
  }

  const queue = (op: PendingOp) => {
    own.add(op.stamp.opId)
    outbox.push(op)
  }

  /** A local put: the row's clock + 1 (1 for a new key), fields merged into the payload. */
  const edit = (tableName: string, pk: string, fields: Record<string, unknown>, opId: string, now: number) => {
    const key = keyOf(tableName, pk)
    const row = rows.get(key)
    const clock = row === undefined || row.deleted ? 1 : row.clock + 1
    const hlc = nextHlc(now)
    const payload = { ...(row?.payload ?? {}), ...fields, id: pk, clock }
    const mine = kind === "contract" ? { hlc, opId } : { hlc: undefined, opId: undefined }
    rows.set(key, { payload, clock, ...mine, deleted: false })
    queue(pendingOp(tableName, pk, "put", payload, { deviceId: id, opId, hlc, clock }, now))
  }

  /** A local hard delete of a live row: the delete's clock is the row's + 1. */
  const remove = (tableName: string, pk: string, opId: string, now: number) => {
    const key = keyOf(tableName, pk)
    const row = rows.get(key)
    if (row === undefined || row.deleted) return
    const clock = row.clock + 1
    const hlc = nextHlc(now)
    rows.delete(key)
    tombs.set(key, kind === "contract" ? { clock, hlc, opId } : { clock, hlc: undefined, opId: undefined })
    queue(pendingOp(tableName, pk, "delete", undefined, { deviceId: id, opId, hlc, clock }, now))
  }

  /** Applies one pulled page. */
  const applyPage = (changes: ReadonlyArray<SyncChange>) => {
    const fresh = changes.filter((change) => !own.has(change.stamp.opId))
    if (kind === "contract") {
      for (const change of fresh) applyContract(change)
      return
    }
    // Behaviour 1: one read of the page's rows and tombstones, before any change is applied.
    const staleRows = new Map(fresh.map((c) => [keyOf(c.tableName, c.pk), rows.get(keyOf(c.tableName, c.pk))]))
    const staleTombs = new Map(fresh.map((c) => [keyOf(c.tableName, c.pk), tombs.get(keyOf(c.tableName, c.pk))]))
    for (const change of fresh) {
      const key = keyOf(change.tableName, change.pk)
      if (change.op === "delete") applyDelete2026(key, change, staleRows.get(key), staleTombs.get(key))
      else applyPut2026(key, change, staleRows.get(key), staleTombs.get(key))
    }
  }

  /** Behaviour 3: the tombstone keeps the highest clock it was told about. */
  const writeTomb2026 = (key: string, clock: number, existing: LocalTomb | undefined) => {
    if (existing !== undefined && existing.clock >= clock) return
    tombs.set(key, { clock, hlc: undefined, opId: undefined })
  }

  const applyDelete2026 = (key: string, change: SyncChange, local: LocalRow | undefined, tomb: LocalTomb | undefined) => {
    const clock = change.stamp.clock
    if (local === undefined || local.deleted) return writeTomb2026(key, clock, tomb)
    // Behaviour 2: a local edit has no hlc, so an equal clock goes to the remote change.
    const wins = clock > local.clock || (clock === local.clock && compareText(change.stamp.hlc, local.hlc ?? "") > 0)
    if (!wins) return
    rows.set(key, { ...local, deleted: true, clock, hlc: change.stamp.hlc })
    writeTomb2026(key, clock, tomb)
  }

  const applyPut2026 = (key: string, change: SyncChange, local: LocalRow | undefined, tomb: LocalTomb | undefined) => {
    const clock = change.stamp.clock
    if (tomb !== undefined && tomb.clock >= clock) return // behaviour 3
    const wins = local === undefined || clock > local.clock ||
      (clock === local.clock && compareText(change.stamp.hlc, local.hlc ?? "") > 0)
    if (!wins) return
    rows.set(key, { payload: change.payload as Record<string, unknown>, clock, hlc: change.stamp.hlc, opId: change.stamp.opId, deleted: false })
    if (tomb !== undefined && tomb.clock < clock) tombs.delete(key)
  }

  const applyContract = (change: SyncChange) => {
    const key = keyOf(change.tableName, change.pk)
    const current = held(key)
    const revision = revisionOf(change)
    if (current !== undefined && compareRevision(revision, current) <= 0) return
    if (change.op === "put") {
      rows.set(key, { payload: change.payload as Record<string, unknown>, ...revision, deleted: false })
    } else {
      rows.delete(key)
      tombs.set(key, revision)
    }
  }

  /** Replaces the copy with a snapshot's items (every page of one chain); the outbox stays. */
  const rebuild = (items: ReadonlyArray<SnapshotItem>) => {
    rows.clear()
    tombs.clear()
    for (const item of items) {
      const key = keyOf(item.tableName, item.pk)
      if (item.kind === "row") {
        rows.set(key, { payload: item.payload as Record<string, unknown>, ...item.revision, deleted: false })
      } else {
        tombs.set(key, item.revision)
      }
    }
  }

  return {
    id,
    kind,
    rows: rows as ReadonlyMap<string, LocalRow>,
    tombs: tombs as ReadonlyMap<string, LocalTomb>,
    edit,
    remove,
    applyPage,
    rebuild,
    /** Takes the outbox for a push. */
    drain: () => {
      const ops = outbox
      outbox = []
      return ops
    },
    /** The keys a user sees, with payload and clock. */
    live: () => new Map([...rows].filter(([, row]) => !row.deleted).map(([key, row]) => [key, { payload: row.payload, clock: row.clock }]))
  }
}

export type Replica = ReturnType<typeof makeReplica>

const pendingOp = (
  tableName: string,
  pk: string,
  operation: "put" | "delete",
  payload: Record<string, unknown> | undefined,
  stamp: PendingOp["stamp"],
  now: number
): PendingOp => ({
  id: `${stamp.deviceId}-${stamp.opId}`,
  tableName,
  operation,
  pk,
  ...(payload === undefined ? {} : { payload }),
  stamp,
  createdAt: now,
  attempts: 0,
  status: "pending"
})
