/**
 * The demo's clock: wall time plus an offset the demo moves forward, shared by the provider (as
 * its Effect `Clock`) and the simulated devices (for their HLCs). Moving it two hours ahead is
 * how the demo reaches the host's minimum GC window (3600 s) without waiting for it.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

export interface DemoClock {
  readonly now: () => number
  readonly advance: (millis: number) => void
  /** The same time as an Effect Clock; `sleep` still waits in real time. */
  readonly clock: Clock.Clock
}

export const makeDemoClock = (): DemoClock => {
  let offset = 0
  const now = () => Date.now() + offset
  const real = Clock.make()
  return {
    now,
    advance: (millis) => {
      offset += millis
    },
    clock: {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: now,
      unsafeCurrentTimeNanos: () => BigInt(now()) * 1_000_000n,
      currentTimeMillis: Effect.sync(now),
      currentTimeNanos: Effect.sync(() => BigInt(now()) * 1_000_000n),
      sleep: (duration: Duration.Duration) => real.sleep(duration)
    }
  }
}
