/**
 * SyncGateway: push, pull, snapshot, device cursors and history GC over the SqlClient (contract
 * sections 1-4). Requests are decoded here with Schema, so callers may pass what arrived over the
 * wire; the invariants each method keeps are written where they are kept (see `./sync/*`).
 */
import { Context, type Effect } from "effect"
import type {
  CursorRegressed,
  Forbidden,
  InvalidInput,
  SnapshotExpired,
  Unauthenticated
} from "../schema/errors.js"
import type { PullResponse, PushResult, SessionUser, SnapshotResponse } from "../schema/wire.js"

/** What one GC call removed, and the purge horizon after it. */
export interface GcReport {
  readonly workspaceId: string
  /** Device cursors dropped for being idle longer than the window. */
  readonly expiredCursors: number
  /** Rows deleted (change-log entries, or tombstones for `gcTombstones`). */
  readonly deleted: number
  /** Highest purged version; pulls from below it must snapshot. */
  readonly horizon: number
}

export interface SyncGatewayShape {
  /** Applies a batch (at most 100 ops) atomically; one result per distinct opId. */
  readonly push: (
    input: { readonly scope: unknown; readonly ops: unknown },
    session?: SessionUser
  ) => Effect.Effect<PushResult, InvalidInput>
  /** Changes after `cursor`, ascending, with the retention fields. */
  readonly pull: (input: unknown, session?: SessionUser) => Effect.Effect<PullResponse, InvalidInput>
  /** One page of the workspace state at a pinned watermark (snapshot-v1). */
  readonly snapshot: (
    input: unknown,
    session?: SessionUser
  ) => Effect.Effect<SnapshotResponse, InvalidInput | Forbidden | SnapshotExpired>
  /** Moves a device cursor forward (never back, never past the head). */
  readonly updateCursor: (
    input: unknown,
    session?: SessionUser
  ) => Effect.Effect<void, InvalidInput | Unauthenticated | Forbidden | CursorRegressed>
  /** Deletes change-log entries no device and no live snapshot needs (see `./sync/gc.ts`). */
  readonly gcChangeLog: (input: unknown) => Effect.Effect<GcReport, InvalidInput>
  /** Deletes tombstones whose delete is still remembered by the row (see `./sync/gc.ts`). */
  readonly gcTombstones: (input: unknown) => Effect.Effect<GcReport, InvalidInput>
  /** Ids of the workspaces that are not deleted, for the host's maintenance pass. */
  readonly listWorkspaceIds: Effect.Effect<ReadonlyArray<string>>
}

export class SyncGateway extends Context.Tag("or3-provider-sqlite/services/SyncGateway")<
  SyncGateway,
  SyncGatewayShape
>() {}
