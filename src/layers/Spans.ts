/**
 * Spans that cost nothing when nobody records them.
 *
 * A span made with `Effect.withSpan` or `Effect.fn(name)` is built even under Effect's built-in
 * tracer, which exports nothing, and `Effect.fn` captures a stack trace (`new Error()`) for it on
 * every call. On the polling path (a pull every ~2 s per device, mostly empty) those were the
 * largest cost after SQLite itself. So the hot paths open their spans only when a tracer is
 * installed (OR3_SQLITE_OTEL, or a test's) and never capture a stack trace.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"

/** The tracer every fiber has unless one is installed. */
const builtInTracer = Effect.runSync(Effect.tracer)

/** True when `fiber` records spans somewhere: tracing is on and a tracer other than the built-in one is installed. */
export const isTraced = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.getFiberRef(FiberRef.currentTracerEnabled) &&
  Context.get(fiber.currentDefaultServices, Tracer.Tracer) !== builtInTracer

/**
 * `Effect.withSpan(name)` when a tracer is installed, else the effect itself. Usable as the last
 * argument of `Effect.fnUntraced`, so a method reads as `Effect.fn` does, with its span at the end.
 */
export const traced =
  (name: string, options?: Omit<Tracer.SpanOptions, "captureStackTrace">) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) =>
      isTraced(fiber) ? Effect.withSpan(self, name, { ...options, captureStackTrace: false }) : self
    )
