/**
 * Schema definitions of the OR3 sync wire types (contract section 1). Requests are decoded with
 * these on the way in; responses are typed by them on the way out. Limits come from `Limits`.
 */
/// <reference lib="es2024.string" />
import * as Schema from "effect/Schema"
import { Limits } from "./limits.js"

/**
 * The rule of `BoundedString`: 1..max characters, no lone UTF-16 surrogate (SQLite would store
 * it as U+FFFD, so two different keys could collide). Undefined when `text` passes, else the
 * message of the rule it breaks. (`isWellFormed` is ES2024, hence the lib reference.)
 */
const boundedStringIssue = (text: string, max: number): string | undefined =>
  text.length === 0 || text.length > max
    ? `must be 1 to ${max} characters`
    : text.isWellFormed() ? undefined : "must be well-formed Unicode"

/** The rule of `NonNegativeInt`: an integer in 0..MAX_SAFE_INTEGER. */
const nonNegativeIntIssue = (n: number): string | undefined =>
  Number.isSafeInteger(n) && n >= 0 ? undefined : "must be a non-negative integer"

/** `Schema.UUID`'s pattern, and its message (the formatter quotes a string as JSON). */
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const uuidIssue = (text: string): string | undefined =>
  uuidPattern.test(text) ? undefined : `Expected a Universally Unique Identifier, actual ${JSON.stringify(text)}`

/**
 * A string kept as sent that passes `boundedStringIssue`. All rules sit in one filter whose
 * message says which one broke: each stacked refinement is one more parse step (~0.2 us) per value.
 */
export const BoundedString = (max: number) =>
  Schema.String.pipe(Schema.filter((text) => boundedStringIssue(text, max)))

/** A string, trimmed. No rule of its own: whoever uses it checks the trimmed value. */
const Trim = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: (text) => text.trim(),
  encode: (text) => text
})

/** A string that is trimmed, then checked as a `BoundedString`. */
export const TrimmedString = (max: number) => Trim.pipe(Schema.filter((text) => boundedStringIssue(text, max)))

/** An integer in 0..MAX_SAFE_INTEGER, checked in one filter (see `BoundedString`). */
export const NonNegativeInt = Schema.Number.pipe(Schema.filter(nonNegativeIntIssue))

export const SyncScope = Schema.Struct({
  workspaceId: TrimmedString(Limits.maxIdentifierLength),
  projectId: Schema.optional(TrimmedString(Limits.maxIdentifierLength))
})
export type SyncScope = typeof SyncScope.Type

export const ChangeStamp = Schema.Struct({
  deviceId: TrimmedString(Limits.maxIdentifierLength),
  opId: Schema.UUID,
  hlc: BoundedString(Limits.maxHlcLength),
  clock: NonNegativeInt
})
export type ChangeStamp = typeof ChangeStamp.Type

export const PendingOpStatus = Schema.Literal(
  "pending",
  "in_flight",
  "retry_wait",
  "failed_retryable",
  "failed_permanent",
  "applied",
  "discarded",
  "syncing",
  "failed"
)

export const SyncErrorCode = Schema.Literal(
  "VALIDATION_ERROR",
  "UNAUTHORIZED",
  "CONFLICT",
  "NOT_FOUND",
  "RATE_LIMITED",
  "OVERSIZED",
  "NETWORK_ERROR",
  "SERVER_ERROR",
  "UNKNOWN"
)
export type SyncErrorCode = typeof SyncErrorCode.Type

export const Operation = Schema.Literal("put", "delete")
export type Operation = typeof Operation.Type

/** `ChangeStamp`'s fields without their rules: `PendingOp` checks them all in its one filter. */
const PlainStamp = Schema.Struct({
  deviceId: Trim,
  opId: Schema.String,
  hlc: Schema.String,
  clock: Schema.Number
})

/** `PendingOp`'s fields without their rules. */
const PlainPendingOp = Schema.Struct({
  id: Schema.String,
  tableName: Schema.String,
  operation: Operation,
  pk: Schema.String,
  payload: Schema.optional(Schema.Unknown),
  stamp: PlainStamp,
  createdAt: Schema.Number,
  attempts: Schema.Number,
  nextAttemptAt: Schema.optional(Schema.Number),
  status: PendingOpStatus,
  lastError: Schema.optional(Schema.String),
  lastErrorCode: Schema.optional(SyncErrorCode)
})

type PlainPendingOp = typeof PlainPendingOp.Type

/**
 * The rules of `PendingOp`'s fields, in field order, each with the path it reports: the same
 * rules and messages as `BoundedString`, `TrimmedString`, `Schema.UUID` and `NonNegativeInt`.
 */
const pendingOpRules: ReadonlyArray<readonly [ReadonlyArray<string>, (op: PlainPendingOp) => string | undefined]> = [
  [["id"], (op) => boundedStringIssue(op.id, Limits.maxIdentifierLength)],
  [["tableName"], (op) => boundedStringIssue(op.tableName, Limits.maxTableNameLength)],
  [["pk"], (op) => boundedStringIssue(op.pk, Limits.maxPkLength)],
  [["stamp", "deviceId"], (op) => boundedStringIssue(op.stamp.deviceId, Limits.maxIdentifierLength)],
  [["stamp", "opId"], (op) => uuidIssue(op.stamp.opId)],
  [["stamp", "hlc"], (op) => boundedStringIssue(op.stamp.hlc, Limits.maxHlcLength)],
  [["stamp", "clock"], (op) => nonNegativeIntIssue(op.stamp.clock)],
  [["attempts"], (op) => nonNegativeIntIssue(op.attempts)]
]

/**
 * A client outbox row as pushed. Unknown keys are dropped; the table allow-list and the payload
 * rules are checked by the gateway (they need the scope), not here.
 *
 * Every push decodes up to 100 of these, so the fields are plain and their rules run in one
 * filter on the whole op, which reports the first broken rule under its field's path. A filter per
 * field costs a parse step per value, with its closures, Options and Eithers: with them a W1 op
 * allocated 7.1 KB, with one filter 3.8 KB (the plain struct alone: 2.8 KB). The price: types
 * are checked first, for the whole op, so a wrong type anywhere is reported before a broken rule
 * in an earlier field.
 */
export const PendingOp = PlainPendingOp.pipe(Schema.filter((op) => {
  for (const [path, rule] of pendingOpRules) {
    const message = rule(op)
    if (message !== undefined) return { path, message }
  }
  return undefined
}))
export type PendingOp = typeof PendingOp.Type

export const SnapshotRevision = Schema.Struct({
  clock: NonNegativeInt,
  hlc: Schema.NonEmptyString,
  opId: Schema.NonEmptyString
})
export type SnapshotRevision = typeof SnapshotRevision.Type

export const SyncChange = Schema.Struct({
  serverVersion: Schema.Int.pipe(Schema.positive()),
  tableName: Schema.String,
  pk: Schema.String,
  op: Operation,
  payload: Schema.optional(Schema.Unknown),
  stamp: ChangeStamp
})
export type SyncChange = typeof SyncChange.Type

const TableFilter = Schema.Array(BoundedString(Limits.maxTableNameLength)).pipe(
  Schema.maxItems(Limits.maxTableFilter)
)

const PageSize = Schema.Int.pipe(Schema.between(Limits.minPageSize, Limits.maxPageSize))

export const FileKindCapability = Schema.String

export const PullRequest = Schema.Struct({
  scope: SyncScope,
  cursor: NonNegativeInt,
  limit: PageSize,
  tables: Schema.optional(TableFilter),
  fileKindCapability: Schema.optional(FileKindCapability)
})
export type PullRequest = typeof PullRequest.Type

export const PullResponse = Schema.Struct({
  changes: Schema.Array(SyncChange),
  nextCursor: NonNegativeInt,
  hasMore: Schema.Boolean,
  oldestRetainedVersion: NonNegativeInt,
  requiresSnapshot: Schema.Boolean
})
export type PullResponse = typeof PullResponse.Type

export const SnapshotRequest = Schema.Struct({
  scope: SyncScope,
  pageSize: PageSize,
  pageToken: Schema.optional(BoundedString(Limits.maxPageTokenLength)),
  tables: Schema.optional(TableFilter),
  fileKindCapability: Schema.optional(FileKindCapability)
})
export type SnapshotRequest = typeof SnapshotRequest.Type

export const SnapshotItem = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("row"),
    tableName: Schema.String,
    pk: Schema.String,
    payload: Schema.Unknown,
    revision: SnapshotRevision
  }),
  Schema.Struct({
    kind: Schema.Literal("tombstone"),
    tableName: Schema.String,
    pk: Schema.String,
    revision: SnapshotRevision,
    serverDeletedAt: NonNegativeInt
  })
)
export type SnapshotItem = typeof SnapshotItem.Type

export const SnapshotResponse = Schema.Struct({
  workspaceId: Schema.NonEmptyString,
  snapshotId: Schema.NonEmptyString,
  highWatermark: NonNegativeInt,
  items: Schema.Array(SnapshotItem),
  nextPageToken: Schema.NullOr(BoundedString(Limits.maxPageTokenLength))
})
export type SnapshotResponse = typeof SnapshotResponse.Type

/** The push envelope. `ops` stay unknown here: each op is decoded on its own (per-op errors). */
export const PushBatch = Schema.Struct({
  scope: SyncScope,
  ops: Schema.Array(Schema.Unknown).pipe(Schema.maxItems(Limits.maxPushOps)),
  fileKindCapability: Schema.optional(FileKindCapability)
})
export type PushBatch = typeof PushBatch.Type

export const PushWinner = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("put"),
    payload: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    revision: SnapshotRevision
  }),
  Schema.Struct({
    kind: Schema.Literal("delete"),
    revision: SnapshotRevision,
    serverDeletedAt: Schema.optional(NonNegativeInt)
  })
)
export type PushWinner = typeof PushWinner.Type

export const PushResultItem = Schema.Struct({
  opId: Schema.NonEmptyString,
  success: Schema.Boolean,
  serverVersion: Schema.optional(Schema.Int.pipe(Schema.positive())),
  error: Schema.optional(Schema.String),
  errorCode: Schema.optional(SyncErrorCode),
  tableName: Schema.optional(Schema.String),
  operation: Schema.optional(Operation),
  payload: Schema.optional(Schema.Unknown),
  wasExisting: Schema.optional(Schema.Boolean),
  applied: Schema.optional(Schema.Boolean),
  replayed: Schema.optional(Schema.Boolean),
  winner: Schema.optional(PushWinner)
})
export type PushResultItem = typeof PushResultItem.Type

export const PushResult = Schema.Struct({
  results: Schema.Array(PushResultItem),
  serverVersion: NonNegativeInt
})
export type PushResult = typeof PushResult.Type

export const UpdateCursorRequest = Schema.Struct({
  scope: SyncScope,
  deviceId: TrimmedString(Limits.maxIdentifierLength),
  version: NonNegativeInt
})
export type UpdateCursorRequest = typeof UpdateCursorRequest.Type

export const RetentionSeconds = Schema.Int.pipe(
  Schema.between(Limits.minRetentionSeconds, Limits.maxRetentionSeconds)
)

export const GcRequest = Schema.Struct({
  scope: SyncScope,
  retentionSeconds: RetentionSeconds
})
export type GcRequest = typeof GcRequest.Type

/** Who is calling: the session user (notifications ownership, cursors, snapshot tokens). */
export interface SessionUser {
  readonly userId: string
}
