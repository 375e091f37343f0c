/**
 * Ids for users, workspaces, invites and snapshots, behind a service so tests can make them
 * deterministic. Time comes from Effect's `Clock` (tests drive it with `TestClock`).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomUUID } from "node:crypto"

export interface IdsShape {
  /** A new random UUID. */
  readonly uuid: Effect.Effect<string>
}

export class Ids extends Context.Tag("or3-provider-sqlite/services/Ids")<Ids, IdsShape>() {
  /** Random v4 UUIDs from `node:crypto`. */
  static readonly Default: Layer.Layer<Ids> = Layer.succeed(Ids, { uuid: Effect.sync(randomUUID) })

  /** Sequential UUID-shaped ids (`00000000-0000-4000-8000-000000000001`, ...), per layer. */
  static readonly Test: Layer.Layer<Ids> = Layer.sync(Ids, () => {
    let next = 0
    return {
      uuid: Effect.sync(() => `00000000-0000-4000-8000-${(++next).toString(16).padStart(12, "0")}`)
    }
  })
}

/** Milliseconds since the epoch, from the Clock service. */
export const nowMillis = Effect.clockWith((clock) => clock.currentTimeMillis)
