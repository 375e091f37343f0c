/**
 * Turns the raw ops of a push into the units the gateway applies: one per distinct opId, each
 * either a validated, normalized op or the result that rejects it. Nothing here reads the database.
 */
import * as ParseResult from "effect/ParseResult"
import { describeParseError } from "../../schema/decode.js"
import { Limits } from "../../schema/limits.js"
import { isSyncedTable, SyncedTables, type SyncedTableName, userOwnedTable } from "../../schema/tables.js"
import { PendingOp, type PushResultItem, type SessionUser, type SyncErrorCode } from "../../schema/wire.js"

/** A validated op, its payload normalized and serialized once. */
export interface ValidOp {
  readonly opId: string
  readonly tableName: SyncedTableName
  readonly operation: "put" | "delete"
  readonly pk: string
  readonly deviceId: string
  readonly hlc: string
  readonly clock: number
  /** The payload as stored (server-owned keys removed, notifications stamped), or null. */
  readonly payloadJson: string | null
  /** The notification's owner (the session user), null for other tables. */
  readonly ownerUserId: string | null
}

export type Unit =
  | { readonly _tag: "Valid"; readonly op: ValidOp }
  | { readonly _tag: "Rejected"; readonly result: PushResultItem }

const decodeOp = ParseResult.decodeUnknownEither(PendingOp, { errors: "first", onExcessProperty: "ignore" })

export const failure = (opId: string, errorCode: SyncErrorCode, error: string): PushResultItem => ({
  opId,
  success: false,
  errorCode,
  error
})

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * True when `text` takes more than `limit` UTF-8 bytes. A UTF-16 code unit encodes to at most 3
 * bytes, so a string of at most limit/3 units needs no encoding pass.
 */
const utf8LongerThan = (text: string, limit: number) =>
  text.length * 3 > limit && Buffer.byteLength(text, "utf8") > limit

/**
 * True when `value` nests objects/arrays deeper than `max`. The recursion stops at `max` levels,
 * so a hostile payload cannot overflow the stack, and a leaf costs no allocation.
 */
const nestedDeeperThan = (value: unknown, max: number): boolean => {
  if (typeof value !== "object" || value === null) return false
  if (max === 0) return true
  if (Array.isArray(value)) {
    for (const child of value) if (nestedDeeperThan(child, max - 1)) return true
  } else {
    for (const child of Object.values(value)) if (nestedDeeperThan(child, max - 1)) return true
  }
  return false
}

/** Keys the server owns: never stored from a client payload. */
const serverOwnedKeys: Partial<Record<SyncedTableName, ReadonlyArray<string>>> = {
  file_meta: ["ref_count"]
}

/**
 * The payload as stored: without `workspace_id` and the keys the server owns, stamped with its
 * owner when it has one. Copied only when something changes: the caller's object stays as sent.
 */
const storedPayload = (record: Record<string, unknown>, table: SyncedTableName, owner: string | null) => {
  const owned = serverOwnedKeys[table]
  if (owner === null && !("workspace_id" in record) && !owned?.some((key) => key in record)) return record
  const stored = { ...record }
  delete stored.workspace_id
  for (const key of owned ?? []) delete stored[key]
  if (owner !== null) stored.user_id = owner
  return stored
}

const rejected = (opId: string, code: SyncErrorCode, error: string): Unit => ({
  _tag: "Rejected",
  result: failure(opId, code, error)
})

/**
 * Checks one op against the rules every provider applies (contract section 3) and normalizes its
 * payload: `workspace_id` and derived keys (`ref_count` of file_meta) are dropped, a notification
 * is stamped with its owner. `messages.index` / `order_key` pass through exactly as sent.
 */
const validate = (raw: unknown, index: number, workspaceId: string, session: SessionUser | undefined): Unit => {
  const decoded = decodeOp(raw)
  if (decoded._tag === "Left") {
    const { field, reason } = describeParseError(new ParseResult.ParseError({ issue: decoded.left }), "op")
    return rejected(rawOpId(raw, index), "VALIDATION_ERROR", `Invalid ${field}: ${reason}`)
  }
  const op = decoded.right
  const opId = op.stamp.opId
  if (!isSyncedTable(op.tableName)) return rejected(opId, "VALIDATION_ERROR", `Invalid table: ${op.tableName}`)
  const table = op.tableName
  const payload = op.payload
  let record: Record<string, unknown> | undefined
  if (payload === undefined || payload === null) {
    if (op.operation === "put") return rejected(opId, "VALIDATION_ERROR", `A put on ${table} needs a payload object`)
  } else if (!isPlainObject(payload)) {
    return rejected(opId, "VALIDATION_ERROR", `Payload for ${table} must be a plain object`)
  } else {
    record = payload
    if (nestedDeeperThan(record, Limits.maxPayloadDepth)) {
      return rejected(opId, "VALIDATION_ERROR", `Payload for ${table} nests deeper than ${Limits.maxPayloadDepth} levels`)
    }
    if ("_id" in record) return rejected(opId, "VALIDATION_ERROR", `Payload for ${table} must not contain '_id'`)
    if ("workspace_id" in record && record.workspace_id !== workspaceId) {
      return rejected(opId, "VALIDATION_ERROR", `'workspace_id' is immutable: it must equal the scope's workspace`)
    }
    const pkField = SyncedTables[table].pkField
    if (pkField in record && record[pkField] !== op.pk) {
      return rejected(opId, "VALIDATION_ERROR", `Payload '${pkField}' must match operation pk`)
    }
    if ("deleted" in record && typeof record.deleted !== "boolean") {
      return rejected(opId, "VALIDATION_ERROR", `Payload 'deleted' must be a boolean`)
    }
  }
  let ownerUserId: string | null = null
  if (table === userOwnedTable) {
    if (session === undefined) return rejected(opId, "UNAUTHORIZED", "Notifications need a signed-in user")
    if (record !== undefined && record.user_id !== undefined && record.user_id !== session.userId) {
      return rejected(opId, "UNAUTHORIZED", "Forbidden: notification owner mismatch")
    }
    ownerUserId = session.userId
  }
  const payloadJson = record === undefined
    ? null
    : JSON.stringify(storedPayload(record, table, op.operation === "put" ? ownerUserId : null))
  if (payloadJson !== null && utf8LongerThan(payloadJson, Limits.maxPayloadBytes)) {
    return rejected(opId, "OVERSIZED", `Payload too large for ${table}: exceeds ${Limits.maxPayloadBytes} bytes`)
  }
  return {
    _tag: "Valid",
    op: {
      opId,
      tableName: table,
      operation: op.operation,
      pk: op.pk,
      deviceId: op.stamp.deviceId,
      hlc: op.stamp.hlc,
      clock: op.stamp.clock,
      payloadJson,
      ownerUserId
    }
  }
}

/** The opId an invalid op is answered under: its own when it has a usable one. */
const rawOpId = (raw: unknown, index: number): string => {
  const opId = (raw as { stamp?: { opId?: unknown } } | null)?.stamp?.opId
  return typeof opId === "string" && opId.length > 0 && opId.length <= Limits.maxIdentifierLength
    ? opId
    : `invalid-op-${index}`
}

/** JSON with object keys sorted, so two copies of one op compare equal whatever their key order. */
const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v)

/** True when two stored payloads (JSON, or null for none) hold the same value, whatever the key order. */
export const samePayload = (a: string | null, b: string | null) =>
  a === b || (a !== null && b !== null && stableJson(JSON.parse(a)) === stableJson(JSON.parse(b)))

/** True when `a` and `b` are the same op: same key, operation, stamp and (normalized) payload. */
export const sameOp = (a: ValidOp, b: ValidOp) =>
  a.tableName === b.tableName && a.operation === b.operation && a.pk === b.pk && a.clock === b.clock &&
  a.hlc === b.hlc && a.deviceId === b.deviceId && samePayload(a.payloadJson, b.payloadJson)

const sameUnit = (a: Unit, b: Unit) =>
  a._tag === "Valid" && b._tag === "Valid" ? sameOp(a.op, b.op) :
  a._tag === "Rejected" && b._tag === "Rejected" && a.result.error === b.result.error

/**
 * One unit per distinct opId, in order of first appearance. Identical copies collapse into one;
 * copies that differ all fail with CONFLICT and take no version.
 */
export const prepareOps = (
  ops: ReadonlyArray<unknown>,
  workspaceId: string,
  session: SessionUser | undefined
): ReadonlyArray<Unit> => {
  const units = new Map<string, Unit>()
  for (let index = 0; index < ops.length; index++) {
    const unit = validate(ops[index], index, workspaceId, session)
    const opId = unit._tag === "Valid" ? unit.op.opId : unit.result.opId
    const first = units.get(opId)
    if (first === undefined) {
      units.set(opId, unit)
    } else if (!sameUnit(first, unit)) {
      units.set(opId, {
        _tag: "Rejected",
        result: failure(opId, "CONFLICT", `Conflicting operations reuse op_id ${opId}`)
      })
    }
  }
  return [...units.values()]
}

