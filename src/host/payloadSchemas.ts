/**
 * The host's table payload schemas (`TABLE_PAYLOAD_SCHEMAS`, contract 2): a `put` on a known
 * table must carry the table's required fields, and its payload is replaced by the normalized one
 * (top-level camelCase keys turned into snake_case; other keys kept). Deletes are not checked.
 */
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { firstIssue } from "../schema/decode.js"
import type { SyncedTableName } from "../schema/tables.js"

const common = {
  deleted: Schema.Boolean,
  created_at: Schema.Number,
  updated_at: Schema.Number,
  clock: Schema.Number
}

const { deleted: _deleted, ...commonWithoutDeleted } = common

/** The fields each table's payload must (or may) carry; other keys pass through unchecked. */
const TableFields = {
  threads: {
    id: Schema.String,
    title: Schema.optional(Schema.NullOr(Schema.String)),
    status: Schema.String,
    pinned: Schema.Boolean,
    ...common
  },
  messages: {
    id: Schema.String,
    thread_id: Schema.String,
    role: Schema.String,
    index: Schema.Number,
    order_key: Schema.String,
    hlc: Schema.optional(Schema.String),
    ...common
  },
  projects: { id: Schema.String, name: Schema.String, ...common },
  posts: { id: Schema.String, title: Schema.String, content: Schema.String, post_type: Schema.String, ...common },
  file_meta: {
    hash: Schema.String,
    kind: Schema.optional(Schema.String),
    mime_type: Schema.optional(Schema.String),
    size_bytes: Schema.optional(Schema.Number),
    ...common
  },
  kv: { id: Schema.String, name: Schema.String, value: Schema.optional(Schema.NullOr(Schema.Unknown)), ...commonWithoutDeleted },
  notifications: {
    id: Schema.String,
    user_id: Schema.String,
    thread_id: Schema.optional(Schema.String),
    document_id: Schema.optional(Schema.String),
    type: Schema.String,
    title: Schema.String,
    body: Schema.optional(Schema.String),
    actions: Schema.optional(Schema.Array(Schema.Unknown)),
    read_at: Schema.optional(Schema.Number),
    deleted_at: Schema.optional(Schema.Number),
    ...common
  }
} satisfies Record<SyncedTableName, Schema.Struct.Fields>

interface TablePayload {
  /** The known fields, in the order the normalized payload lists them first. */
  readonly keys: ReadonlyArray<string>
  readonly check: (payload: Record<string, unknown>) => Either.Either<unknown, ParseResult.ParseError>
}

// No field transforms its value, so checking the known fields (and keeping the object) gives what
// decoding a passthrough struct gives, at a fraction of the cost of a struct with a rest record.
const tablePayload = (fields: Schema.Struct.Fields): TablePayload => ({
  keys: Object.keys(fields),
  check: Schema.validateEither(Schema.Struct(fields), { errors: "first", onExcessProperty: "ignore" })
})

const tablePayloads = Object.fromEntries(
  Object.entries(TableFields).map(([table, fields]) => [table, tablePayload(fields)])
) as Record<SyncedTableName, TablePayload>

const snakeCase = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()

const hasUpperCase = /[A-Z]/

/**
 * Sets `key` as an own, enumerable data property. Plain assignment would treat `__proto__` as the
 * prototype setter: the key would vanish and its value's fields would be inherited by the payload.
 */
const setOwn = (target: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })

/**
 * Top-level keys in snake_case, a key already sent in snake_case winning over its camelCase twin;
 * the table's known fields first, in schema order, then the others in the order sent. Every key
 * stays an own data key, whatever its name.
 */
const normalize = (payload: Record<string, unknown>, keys: ReadonlyArray<string>): Record<string, unknown> => {
  const snake = new Map<string, unknown>()
  for (const key of Object.keys(payload)) {
    const normalized = hasUpperCase.test(key) ? snakeCase(key) : key
    if (normalized !== key && Object.hasOwn(payload, normalized)) continue
    snake.set(normalized, payload[key])
  }
  const ordered: Record<string, unknown> = {}
  for (const key of keys) if (snake.has(key)) setOwn(ordered, key, snake.get(key))
  for (const [key, value] of snake) if (!Object.hasOwn(ordered, key)) setOwn(ordered, key, value)
  return ordered
}

const isTablePayloadName = (tableName: string): tableName is SyncedTableName => Object.hasOwn(tablePayloads, tableName)

/**
 * The payload to forward for a `put`: unchanged for tables the host has no schema for, the
 * normalized payload when it passes, or the reason it does not.
 */
export const normalizePutPayload = (tableName: string, payload: unknown): Either.Either<unknown, string> => {
  if (!isTablePayloadName(tableName)) return Either.right(payload)
  const value = payload ?? {}
  if (typeof value !== "object" || Array.isArray(value)) {
    return Either.left(`Invalid payload for ${tableName}: expected an object`)
  }
  const { check, keys } = tablePayloads[tableName]
  const normalized = normalize(value as Record<string, unknown>, keys)
  return Either.mapBoth(check(normalized), {
    onLeft: (error) => {
      const { message, path } = firstIssue(error)
      return `Invalid payload for ${tableName}: ${path.length === 0 ? "" : `${path.map(String).join(".")}: `}${message}`
    },
    onRight: () => normalized
  })
}
