/**
 * The reliability suite's knobs, read once from the environment:
 * - `OR3_RELIABILITY_SCALE` multiplies every count (kill cycles, requests, generated bodies,
 *   property runs); default 0.25, the quick run `npm test` makes. `1` is the full run whose
 *   figures docs/reliability.md lists, `10` the long run.
 * - `OR3_RELIABILITY_SEED` fixes the seed of every random choice (kill moments, generated ops,
 *   fast-check); default: a fresh seed per run, printed with every failure so it can be replayed.
 *
 * A suite of its own reads its counts through `scaled` (and its timeouts through `timeoutFor`),
 * so that `npm test` stays quick and a long run needs only the variable.
 */
import { makeRandom } from "../fixtures/ops.mjs"

/** The scale `npm test` runs at. */
export const DEFAULT_SCALE = 0.25

const readScale = (): number => {
  const raw = process.env.OR3_RELIABILITY_SCALE
  if (raw === undefined || raw.trim() === "") return DEFAULT_SCALE
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`OR3_RELIABILITY_SCALE must be a positive number, got "${raw}"`)
  }
  return value
}

const readSeed = (): number => {
  const raw = process.env.OR3_RELIABILITY_SEED
  if (raw === undefined || raw.trim() === "") return (Date.now() ^ (process.pid << 8)) >>> 0
  const value = Number(raw)
  if (!Number.isSafeInteger(value)) throw new Error(`OR3_RELIABILITY_SEED must be an integer, got "${raw}"`)
  return value >>> 0
}

export const SCALE = readScale()

export const SEED = readSeed()

/** `base` times the scale, at least `min`. */
export const scaled = (base: number, min = 1): number => Math.max(min, Math.round(base * SCALE))

/** A line to put in assertion messages: how to replay this run. */
export const replayHint = `replay with OR3_RELIABILITY_SEED=${SEED} OR3_RELIABILITY_SCALE=${SCALE}`

/**
 * A small seeded generator (mulberry32): the same seed gives the same choices in every process.
 * It lives with the child-process fixtures (plain JS, bundled for the children) and is shared here.
 */
export { makeRandom }
export type Random = ReturnType<typeof makeRandom>

/** A test timeout that grows with the scale (never below `baseMs`). */
export const timeoutFor = (baseMs: number): number => Math.round(baseMs * Math.max(1, SCALE))
