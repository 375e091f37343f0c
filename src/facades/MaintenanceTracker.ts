/**
 * The host's maintenance hooks are synchronous (`getMaintenanceState(): SyncMaintenanceState`,
 * `beginMaintenanceRun(): void`, ...), while the state lives in SQLite behind `SyncMaintenance`.
 * The tracker keeps an in-memory copy, loaded once when the provider starts, answers the hooks
 * from it at once, and persists every change through the service in the background.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import type { SyncMaintenanceState } from "../or3/types.js"
import {
  SyncMaintenance,
  type SyncMaintenanceShape,
  type SyncMaintenanceState as StoredState
} from "../services/SyncMaintenance.js"

export interface MaintenanceTracker {
  /** A copy of the current state (the host may keep or change it freely). */
  readonly state: () => SyncMaintenanceState
  readonly begin: () => void
  /** Marks the pass done at `lastRun`; the backlog is refreshed once the service recomputed it. */
  readonly complete: (lastRun: string) => void
  readonly fail: (error: string) => void
  /** Resolves once every change made so far is persisted (or its failure logged). */
  readonly flush: () => Promise<void>
  /** Takes the backlog from a freshly read persisted state. */
  readonly updateBacklog: (backlog: number | undefined) => void
}

const copy = (state: StoredState): SyncMaintenanceState => ({
  enabled: state.enabled,
  state: state.state,
  ...(state.lastRun === undefined ? {} : { lastRun: state.lastRun }),
  ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
  ...(state.backlog === undefined ? {} : { backlog: state.backlog })
})

export const makeMaintenanceTracker = (
  runtime: ManagedRuntime.ManagedRuntime<SyncMaintenance, unknown>,
  initial: StoredState
): MaintenanceTracker => {
  let current: SyncMaintenanceState = copy(initial)
  let last: Fiber.RuntimeFiber<void, unknown> | undefined

  /**
   * Writes run one after another, in the order the hooks were called: each forked write first
   * awaits the previous one, so `begin` can never land after the `complete` that follows it.
   * A failed write is logged and never reaches the host's scheduler (its hooks return void).
   */
  const persist = (name: string, write: (service: SyncMaintenanceShape) => Effect.Effect<void>) => {
    const previous = last
    last = runtime.runFork(
      Effect.gen(function*() {
        if (previous !== undefined) yield* Fiber.await(previous)
        const service = yield* SyncMaintenance
        yield* write(service)
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError(`SyncMaintenance.${name} could not be persisted`, cause)),
        Effect.annotateLogs({ package: "or3-sqlite", operation: `maintenance.${name}` })
      )
    )
  }

  return {
    state: () => ({ ...current }),
    begin: () => {
      const { lastError: _, ...rest } = current
      current = { ...rest, state: "running" }
      persist("begin", (service) => service.begin)
    },
    complete: (lastRun) => {
      const { lastError: _, ...rest } = current
      current = { ...rest, state: "idle", lastRun }
      persist("complete", (service) =>
        Effect.gen(function*() {
          yield* service.complete(lastRun)
          const stored = yield* service.get
          current = { ...current, ...(stored.backlog === undefined ? {} : { backlog: stored.backlog }) }
        }))
    },
    fail: (error) => {
      current = { ...current, state: "failed", lastError: error }
      persist("fail", (service) => service.fail(error))
    },
    flush: () => {
      const pending = last
      return pending === undefined ? Promise.resolve() : runtime.runPromise(Fiber.await(pending)).then(() => undefined)
    },
    updateBacklog: (backlog) => {
      current = { ...current, ...(backlog === undefined ? {} : { backlog }) }
    }
  }
}
