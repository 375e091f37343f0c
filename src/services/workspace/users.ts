/**
 * Users and their auth accounts. An account row maps `(provider, provider_user_id)` to exactly one
 * user; `users.active_workspace_id` is the pointer the session resolves.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { IdsShape } from "../Ids.js"

const IdentityRequest = Schema.Struct({ provider: Schema.String, providerUserId: Schema.String })

const UserRow = Schema.Struct({
  userId: Schema.String,
  email: Schema.NullOr(Schema.String),
  displayName: Schema.NullOr(Schema.String)
})
export type UserRow = typeof UserRow.Type

/** What a new user is created with; `null` means the provider gave nothing. */
export interface NewUser {
  readonly provider: string
  readonly providerUserId: string
  readonly email: string | null
  readonly displayName: string | null
}

/** Trimmed and lower-cased; empty means none. */
export const normalizeEmail = (email: string | undefined): string | null => {
  const normalized = email?.trim().toLowerCase()
  return normalized ? normalized : null
}

/** Trimmed; empty means none. */
export const normalizeDisplayName = (name: string | undefined): string | null => {
  const trimmed = name?.trim()
  return trimmed ? trimmed : null
}

export const makeUserQueries = (sql: SqlClient.SqlClient, ids: IdsShape) => {
  const findByIdentity = SqlSchema.findOne({
    Request: IdentityRequest,
    Result: UserRow,
    execute: ({ provider, providerUserId }) =>
      sql`SELECT u.id AS userId, u.email AS email, u.display_name AS displayName
          FROM auth_accounts a JOIN users u ON u.id = a.user_id
          WHERE a.provider = ${provider} AND a.provider_user_id = ${providerUserId}`
  })

  const exists = (userId: string) =>
    Effect.map(sql<{ id: string }>`SELECT id FROM users WHERE id = ${userId}`, (rows) => rows.length > 0)

  /** Inserts a user row with no account (an admin may add someone by e-mail before they sign in). */
  const insertUser = Effect.fnUntraced(function*(
    user: { readonly email: string | null; readonly displayName: string | null },
    now: number
  ) {
    const userId = yield* ids.uuid
    yield* sql`INSERT INTO users ${
      sql.insert({
        id: userId,
        email: user.email,
        display_name: user.displayName,
        active_workspace_id: null,
        created_at: now,
        updated_at: now
      })
    }`
    return userId
  })

  /**
   * Inserts a user and the account that names it. Callers run this inside a write transaction after
   * finding no account, so the account primary key never meets a concurrent twin (see `getOrCreateUser`).
   */
  const insert = Effect.fnUntraced(function*(user: NewUser, now: number) {
    const userId = yield* insertUser(user, now)
    yield* sql`INSERT INTO auth_accounts ${
      sql.insert({ provider: user.provider, provider_user_id: user.providerUserId, user_id: userId, created_at: now })
    }`
    return userId
  })

  /** The user of an identity, created when the identity is new; run inside a write transaction. */
  const findOrInsert = Effect.fnUntraced(function*(user: NewUser, now: number) {
    const existing = yield* findByIdentity(user)
    if (Option.isSome(existing)) return { userId: existing.value.userId, created: false }
    return { userId: yield* insert(user, now), created: true }
  })

  const setActiveWorkspace = (userId: string, workspaceId: string | null, now: number) =>
    sql`UPDATE users SET active_workspace_id = ${workspaceId}, updated_at = ${now} WHERE id = ${userId}`

  return { findByIdentity, exists, insertUser, insert, findOrInsert, setActiveWorkspace }
}

export type UserQueries = ReturnType<typeof makeUserQueries>
