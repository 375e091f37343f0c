/**
 * SyncGateway: push, pull, snapshot, device cursors and history GC over the SqlClient (contract
 * sections 1-4). Requests are decoded here with Schema, so callers may pass what arrived over the
 * wire; the invariants each method keeps are written where they are kept (see `./sync/*`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { traced } from "../layers/Spans.js"
import type {
  CursorRegressed,
  Forbidden,
  InvalidInput,
  SnapshotExpired,
  Unauthenticated
} from "../schema/errors.js"
import type { PullResponse, PushResult, SessionUser, SnapshotResponse } from "../schema/wire.js"
import { Ids } from "./Ids.js"
import { onTestDatabase, withRandomIds } from "./serviceLayers.js"
import { makeCursors } from "./sync/cursors.js"
import { makeGc } from "./sync/gc.js"
import { makePull } from "./sync/pull.js"
import { makePush } from "./sync/push.js"
import { makeSnapshot } from "./sync/snapshot.js"

/** What one GC call removed, and the purge horizon after it. */
export interface GcReport {
  readonly workspaceId: string
  /** Device cursors dropped for being idle longer than the window. */
  readonly expiredCursors: number
  /** Rows deleted: change-log entries, or for `gcTombstones` tombstones (stale ones and forgotten deletes). */
  readonly deleted: number
  /** Highest version of a forgotten delete; pulls from a cursor in 1..horizon-1 must snapshot. */
  readonly horizon: number
}

/** One GC batch, as it is about to commit. */
export interface GcBatch {
  /** Rows the batch looked at: superseded entries, or tombstones. */
  readonly scanned: number
  /** Rows it deletes. */
  readonly deleted: number
}

export interface GcOptions {
  /**
   * Called inside each batch's transaction, after its writes and before its COMMIT: progress for
   * a caller that reports it (the CLI). A failure or an interruption of it rolls that batch back;
   * the batches before it stay committed.
   */
  readonly onBatch?: (batch: GcBatch) => Effect.Effect<void>
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
  ) => Effect.Effect<SnapshotResponse, InvalidInput | Unauthenticated | Forbidden | SnapshotExpired>
  /** Moves a device cursor forward (never back, never past the head). */
  readonly updateCursor: (
    input: unknown,
    session?: SessionUser
  ) => Effect.Effect<void, InvalidInput | Unauthenticated | Forbidden | CursorRegressed>
  /** Compacts: deletes superseded change-log entries no live snapshot needs (see `./sync/gc.ts`). */
  readonly gcChangeLog: (input: unknown, options?: GcOptions) => Effect.Effect<GcReport, InvalidInput>
  /** Forgets old deletes every device cursor has passed, raising the horizon (see `./sync/gc.ts`). */
  readonly gcTombstones: (input: unknown, options?: GcOptions) => Effect.Effect<GcReport, InvalidInput>
  /** Ids of the workspaces that are not deleted, for the host's maintenance pass. */
  readonly listWorkspaceIds: Effect.Effect<ReadonlyArray<string>>
}

/** Builds the gateway from its parts; each part yields what it needs once, here. */
export const make: Effect.Effect<SyncGatewayShape, never, SqlClient.SqlClient | Ids> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const listWorkspaceIds = Effect.map(
    sql<{ id: string }>`SELECT id FROM workspaces WHERE deleted = 0 ORDER BY created_at, id`,
    (rows) => rows.map((row) => row.id)
  ).pipe(Effect.orDie, traced("SyncGateway.listWorkspaceIds"))
  return {
    ...(yield* makePush),
    ...(yield* makePull),
    ...(yield* makeSnapshot),
    ...(yield* makeCursors),
    ...(yield* makeGc),
    listWorkspaceIds
  }
})

export class SyncGateway extends Context.Tag("or3-provider-sqlite/services/SyncGateway")<
  SyncGateway,
  SyncGatewayShape
>() {
  /** Needs a SqlClient and an Ids service. */
  static readonly DefaultWithoutDependencies: Layer.Layer<SyncGateway, never, SqlClient.SqlClient | Ids> = Layer
    .effect(SyncGateway, make)

  /** Needs a (migrated) SqlClient; ids are random UUIDs. */
  static readonly Default: Layer.Layer<SyncGateway, never, SqlClient.SqlClient> = withRandomIds(
    SyncGateway.DefaultWithoutDependencies
  )

  /** A private migrated in-memory database with sequential ids; the SqlClient is exposed too. */
  static readonly Test: Layer.Layer<SyncGateway | SqlClient.SqlClient> = onTestDatabase(
    SyncGateway.DefaultWithoutDependencies
  )
}
