/**
 * SyncMaintenance: the state of the host's sync-history maintenance passes (contract 4.1/4.6),
 * kept in the `sync_maintenance` table so it survives restarts, with a backlog count that does not
 * scan the whole change log.
 */
import { Context, type Effect } from "effect"

export interface SyncMaintenanceState {
  readonly enabled: boolean
  readonly state: "idle" | "running" | "failed"
  readonly lastRun?: string
  readonly lastError?: string
  /** Change-log entries older than the maintenance retention window (candidates for GC). */
  readonly backlog?: number
}

export interface SyncMaintenanceShape {
  /** The persisted state. */
  readonly get: Effect.Effect<SyncMaintenanceState>
  /** Marks a pass as running. */
  readonly begin: Effect.Effect<void>
  /** Marks a pass as done at `lastRun` (ISO time) and recomputes the backlog. */
  readonly complete: (lastRun: string) => Effect.Effect<void>
  /** Marks a pass as failed; a failed pass never makes the provider unavailable. */
  readonly fail: (error: string) => Effect.Effect<void>
}

export class SyncMaintenance extends Context.Tag("or3-provider-sqlite/services/SyncMaintenance")<
  SyncMaintenance,
  SyncMaintenanceShape
>() {}
