/**
 * Turns the raw ops of a push into the units the gateway applies: one per distinct opId, each
 * either a validated, normalized op or the result that rejects it. Nothing here reads the database.
 */
import { ParseResult } from "effect"
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

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)

const utf8Length = (text: string) => Buffer.byteLength(text, "utf8")

/** True when `value` nests objects/arrays deeper than `max` (an explicit stack, no recursion). */
const nestedDeeperThan = (value: unknown, max: number): boolean => {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (typeof node !== "object" || node === null) continue
    if (depth > max) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1])
  }
  return false
}

/** Keys the server owns: never stored from a client payload. */
const serverOwnedKeys: Partial<Record<SyncedTableName, ReadonlyArray<string>>> = {
  file_meta: ["ref_count"]
}

/**
 * Checks one op against the rules every provider applies (contract section 3) and normalizes its
 * payload: `workspace_id` and derived keys (`ref_count` of file_meta) are dropped, a notification
 * is stamped with its owner. `messages.index` / `order_key` pass through exactly as sent.
 */
const validate = (raw: unknown, index: number, workspaceId: string, session: SessionUser | undefined): Unit => {
  const decoded = decodeOp(raw)
  if (decoded._tag === "Left") {
    const { field, reason } = describeParseError(new ParseResult.ParseError({ issue: decoded.left }), "op")
    return { _tag: "Rejected", result: failure(rawOpId(raw, index), "VALIDATION_ERROR", `Invalid ${field}: ${reason}`) }
  }
  const op = decoded.right
  const reject = (code: SyncErrorCode, error: string): Unit => ({
    _tag: "Rejected",
    result: failure(op.stamp.opId, code, error)
  })
  if (!isSyncedTable(op.tableName)) return reject("VALIDATION_ERROR", `Invalid table: ${op.tableName}`)
  const table = op.tableName
  const payload = op.payload
  if (payload === undefined || payload === null) {
    if (op.operation === "put") return reject("VALIDATION_ERROR", `A put on ${table} needs a payload object`)
  } else if (!isPlainObject(payload)) {
    return reject("VALIDATION_ERROR", `Payload for ${table} must be a plain object`)
  }
  let ownerUserId: string | null = null
  let stored: Record<string, unknown> | undefined
  if (payload != null) {
    const record = payload as Record<string, unknown>
    if (nestedDeeperThan(record, Limits.maxPayloadDepth)) {
      return reject("VALIDATION_ERROR", `Payload for ${table} nests deeper than ${Limits.maxPayloadDepth} levels`)
    }
    if ("_id" in record) return reject("VALIDATION_ERROR", `Payload for ${table} must not contain '_id'`)
    if ("workspace_id" in record && record.workspace_id !== workspaceId) {
      return reject("VALIDATION_ERROR", `'workspace_id' is immutable: it must equal the scope's workspace`)
    }
    const pkField = SyncedTables[table].pkField
    if (pkField in record && record[pkField] !== op.pk) {
      return reject("VALIDATION_ERROR", `Payload '${pkField}' must match operation pk`)
    }
    if ("deleted" in record && typeof record.deleted !== "boolean") {
      return reject("VALIDATION_ERROR", `Payload 'deleted' must be a boolean`)
    }
    stored = { ...record }
    delete stored.workspace_id
    for (const key of serverOwnedKeys[table] ?? []) delete stored[key]
  }
  if (table === userOwnedTable) {
    if (session === undefined) return reject("UNAUTHORIZED", "Notifications need a signed-in user")
    if (stored !== undefined && stored.user_id !== undefined && stored.user_id !== session.userId) {
      return reject("UNAUTHORIZED", "Forbidden: notification owner mismatch")
    }
    if (stored !== undefined && op.operation === "put") stored.user_id = session.userId
    ownerUserId = session.userId
  }
  const payloadJson = stored === undefined ? null : JSON.stringify(stored)
  if (payloadJson !== null && utf8Length(payloadJson) > Limits.maxPayloadBytes) {
    return reject("OVERSIZED", `Payload too large for ${table}: exceeds ${Limits.maxPayloadBytes} bytes`)
  }
  return {
    _tag: "Valid",
    op: {
      opId: op.stamp.opId,
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
export const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v)

const sameOp = (a: ValidOp, b: ValidOp) =>
  a.tableName === b.tableName && a.operation === b.operation && a.pk === b.pk && a.clock === b.clock &&
  a.hlc === b.hlc && a.deviceId === b.deviceId &&
  (a.payloadJson === b.payloadJson ||
    (a.payloadJson !== null && b.payloadJson !== null &&
      stableJson(JSON.parse(a.payloadJson)) === stableJson(JSON.parse(b.payloadJson))))

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
  ops.forEach((raw, index) => {
    const unit = validate(raw, index, workspaceId, session)
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
  })
  return [...units.values()]
}

/** True when a stored change-log entry is the same op as `op` (a replay). */
export const sameAsLogged = (
  op: ValidOp,
  row: { table_name: string; op: string; pk: string; clock: number; hlc: string; device_id: string; payload_json: string | null }
) =>
  sameOp(op, {
    ...op,
    tableName: row.table_name as SyncedTableName,
    operation: row.op as ValidOp["operation"],
    pk: row.pk,
    clock: row.clock,
    hlc: row.hlc,
    deviceId: row.device_id,
    payloadJson: row.payload_json
  })

