/**
 * Per-op push validation (contract 5.1 steps 4-8): the host checks each op on its own, answers
 * the invalid ones itself, forwards only the valid ones, and merges the adapter's results back in
 * input order. One bad op therefore never costs the rest of the batch a round trip.
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { describeParseError } from "../schema/decode.js"
import { Limits } from "../schema/limits.js"
import { PendingOp, type PushResultItem } from "../schema/wire.js"
import { normalizePutPayload } from "./payloadSchemas.js"

const decodeOp = Schema.decodeUnknownEither(PendingOp, { errors: "first", onExcessProperty: "ignore" })

export interface ValidatedOps {
  /** One slot per input op: the host's own result for an invalid op, else empty until merged. */
  readonly results: ReadonlyArray<PushResultItem | undefined>
  /** The ops to forward, normalized. */
  readonly valid: ReadonlyArray<PendingOp>
  /** Where each valid op sits in the input. */
  readonly indexes: ReadonlyArray<number>
}

/** The op's own id when it has a usable one, so the client can match the failure to its outbox. */
const opIdOf = (raw: unknown, index: number): string => {
  const stamp = typeof raw === "object" && raw !== null ? (raw as { stamp?: unknown }).stamp : undefined
  const opId = typeof stamp === "object" && stamp !== null ? (stamp as { opId?: unknown }).opId : undefined
  return typeof opId === "string" && opId.length > 0 ? opId : `invalid-op-${index}`
}

/** UTF-8 JSON size; undefined when the payload cannot be serialized (nested too deep for the stack). */
const payloadBytes = (payload: unknown): number | undefined => {
  try {
    return Buffer.byteLength(JSON.stringify(payload) ?? "", "utf8")
  } catch {
    return undefined
  }
}

const validateOne = (raw: unknown, index: number): Either.Either<PendingOp, PushResultItem> => {
  const decoded = decodeOp(raw)
  if (Either.isLeft(decoded)) {
    const { field, reason } = describeParseError(decoded.left, `ops.${index}`)
    return Either.left({
      opId: opIdOf(raw, index),
      success: false,
      error: `Invalid op: ${field}: ${reason}`,
      errorCode: "VALIDATION_ERROR"
    })
  }
  const op = decoded.right
  const bytes = op.payload === undefined ? 0 : payloadBytes(op.payload)
  if (bytes === undefined) {
    return Either.left({
      opId: op.stamp.opId,
      success: false,
      error: `Payload for ${op.tableName} cannot be serialized`,
      errorCode: "VALIDATION_ERROR"
    })
  }
  if (bytes > Limits.maxPayloadBytes) {
    return Either.left({
      opId: op.stamp.opId,
      success: false,
      error: `Payload too large for ${op.tableName}: exceeds ${Limits.maxPayloadBytes} bytes`,
      errorCode: "OVERSIZED"
    })
  }
  if (op.operation !== "put") return Either.right(op)
  return Either.match(normalizePutPayload(op.tableName, op.payload), {
    onLeft: (error) => Either.left({ opId: op.stamp.opId, success: false, error, errorCode: "VALIDATION_ERROR" }),
    onRight: (payload) => Either.right({ ...op, payload })
  })
}

export const validateOps = (ops: ReadonlyArray<unknown>): ValidatedOps => {
  const results: Array<PushResultItem | undefined> = new Array(ops.length).fill(undefined)
  const valid: Array<PendingOp> = []
  const indexes: Array<number> = []
  ops.forEach((raw, index) => {
    Either.match(validateOne(raw, index), {
      onLeft: (result) => (results[index] = result),
      onRight: (op) => {
        valid.push(op)
        indexes.push(index)
      }
    })
  })
  return { results, valid, indexes }
}

/**
 * The response's results in input order: the host's own failures where it answered, the
 * adapter's result for its opId elsewhere (copies of one opId share that result).
 */
export const mergeResults = (
  validated: ValidatedOps,
  adapterResults: ReadonlyArray<PushResultItem>
): Array<PushResultItem> => {
  const byOpId = new Map(adapterResults.map((item) => [item.opId, item]))
  const merged = [...validated.results]
  validated.valid.forEach((op, i) => {
    merged[validated.indexes[i]] = byOpId.get(op.stamp.opId)
  })
  // Every slot is filled: the response check guarantees one adapter result per forwarded opId.
  return merged as Array<PushResultItem>
}
