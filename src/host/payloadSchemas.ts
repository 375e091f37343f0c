/**
 * The host's table payload schemas (`TABLE_PAYLOAD_SCHEMAS`, contract 2): a `put` on a known
 * table must carry the table's required fields, and its payload is replaced by the normalized one
 * (top-level camelCase keys turned into snake_case; other keys kept). Deletes are not checked.
 */
import { Either, ParseResult, Schema } from "effect"
import type { SyncedTableName } from "../schema/tables.js"

/** Unknown keys pass through, as with the host's passthrough objects. */
const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const common = {
  deleted: Schema.Boolean,
  created_at: Schema.Number,
  updated_at: Schema.Number,
  clock: Schema.Number
}

const { deleted: _deleted, ...commonWithoutDeleted } = common

const TablePayloads = {
  threads: Schema.Struct(
    {
      id: Schema.String,
      title: Schema.optional(Schema.NullOr(Schema.String)),
      status: Schema.String,
      pinned: Schema.Boolean,
      ...common
    },
    Rest
  ),
  messages: Schema.Struct(
    {
      id: Schema.String,
      thread_id: Schema.String,
      role: Schema.String,
      index: Schema.Number,
      order_key: Schema.String,
      hlc: Schema.optional(Schema.String),
      ...common
    },
    Rest
  ),
  projects: Schema.Struct({ id: Schema.String, name: Schema.String, ...common }, Rest),
  posts: Schema.Struct(
    { id: Schema.String, title: Schema.String, content: Schema.String, post_type: Schema.String, ...common },
    Rest
  ),
  file_meta: Schema.Struct(
    {
      hash: Schema.String,
      kind: Schema.optional(Schema.String),
      mime_type: Schema.optional(Schema.String),
      size_bytes: Schema.optional(Schema.Number),
      ...common
    },
    Rest
  ),
  kv: Schema.Struct(
    { id: Schema.String, name: Schema.String, value: Schema.optional(Schema.NullOr(Schema.Unknown)), ...commonWithoutDeleted },
    Rest
  ),
  notifications: Schema.Struct(
    {
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
    },
    Rest
  )
}

const decoder = <A extends Record<string, unknown>, I>(schema: Schema.Schema<A, I>) =>
  Schema.decodeUnknownEither(schema, { errors: "first" })

const decoders: Record<SyncedTableName, (payload: unknown) => Either.Either<Record<string, unknown>, ParseResult.ParseError>> = {
  threads: decoder(TablePayloads.threads),
  messages: decoder(TablePayloads.messages),
  projects: decoder(TablePayloads.projects),
  posts: decoder(TablePayloads.posts),
  file_meta: decoder(TablePayloads.file_meta),
  kv: decoder(TablePayloads.kv),
  notifications: decoder(TablePayloads.notifications)
}

const snakeCase = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()

/** Top-level keys in snake_case; a key already sent in snake_case wins over its camelCase twin. */
const normalizeKeys = (payload: Record<string, unknown>): Record<string, unknown> => {
  const normalized: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(payload)) {
    const snake = snakeCase(key)
    if (snake !== key && Object.hasOwn(payload, snake)) continue
    normalized[snake] = value
  }
  return normalized
}

const isTablePayloadName = (tableName: string): tableName is SyncedTableName => Object.hasOwn(decoders, tableName)

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
  const decoded = decoders[tableName](normalizeKeys(value as Record<string, unknown>))
  return Either.mapLeft(decoded, (error) => {
    const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
    const at = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `
    return `Invalid payload for ${tableName}: ${at}${issue?.message ?? "is invalid"}`
  })
}
