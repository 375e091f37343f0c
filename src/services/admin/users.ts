/**
 * User lookups of the admin stores: the search both admin stores offer, and the ways
 * `upsertMember` finds whom it adds (by e-mail, by provider user id on any provider).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { clampInt, Limits } from "../../schema/limits.js"
import type { UserSearchHit } from "../../schema/admin.js"

const UserRow = Schema.Struct({
  userId: Schema.String,
  email: Schema.NullOr(Schema.String),
  displayName: Schema.NullOr(Schema.String)
})

const UserIdRow = Schema.Struct({ userId: Schema.String })

/** A user row as the host reads it: absent fields instead of nulls. */
export const userHit = (row: typeof UserRow.Type): UserSearchHit => ({
  userId: row.userId,
  ...(row.email === null ? {} : { email: row.email }),
  ...(row.displayName === null ? {} : { displayName: row.displayName })
})

/** `%text%` for LIKE, with `%`, `_` and the escape character itself matched literally (`ESCAPE '\'`). */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

export const makeAdminUserQueries = (sql: SqlClient.SqlClient) => {
  const search = SqlSchema.findAll({
    Request: Schema.Struct({ pattern: Schema.String, limit: Schema.Number }),
    Result: UserRow,
    execute: ({ limit, pattern }) =>
      sql`SELECT id AS userId, email, display_name AS displayName FROM users
          WHERE email LIKE ${pattern} ESCAPE '\\' OR display_name LIKE ${pattern} ESCAPE '\\'
             OR id LIKE ${pattern} ESCAPE '\\'
          ORDER BY email, id LIMIT ${limit}`
  })

  /**
   * Users whose e-mail, display name or id contains `query` (ASCII case ignored), by e-mail. A
   * blank query finds nothing; `limit` is clamped to 1..100 (20 when absent).
   */
  const searchUsers = (input: { readonly query: string; readonly limit?: number | null }) =>
    input.query === ""
      ? Effect.succeed([])
      : Effect.map(
        search({
          pattern: containsPattern(input.query),
          limit: clampInt(
            input.limit,
            Limits.minUserSearchLimit,
            Limits.maxUserSearchLimit,
            Limits.defaultUserSearchLimit,
            "fallback"
          )
        }),
        (rows) => rows.map(userHit)
      )

  /**
   * The user with this (normalized) e-mail: e-mails are not unique across providers. A user who
   * signs in wins over one without an account: an add-by-e-mail of an unknown address leaves a
   * stand-in user, and when that person signs in later, the sign-in makes a second user; every
   * later add must find that one. Among equals, the earliest.
   */
  const findByEmail = SqlSchema.findOne({
    Request: Schema.String,
    Result: UserIdRow,
    execute: (email) =>
      sql`SELECT id AS userId FROM users WHERE email = ${email}
          ORDER BY EXISTS (SELECT 1 FROM auth_accounts a WHERE a.user_id = users.id) DESC, created_at, id
          LIMIT 1`
  })

  /** The user of the earliest account with this provider user id, on any provider. */
  const findByAnyProviderId = SqlSchema.findOne({
    Request: Schema.String,
    Result: UserIdRow,
    execute: (providerUserId) =>
      sql`SELECT user_id AS userId FROM auth_accounts WHERE provider_user_id = ${providerUserId}
          ORDER BY created_at, provider LIMIT 1`
  })

  return {
    searchUsers,
    findByEmail: (email: string) => Effect.map(findByEmail(email), Option.map((row) => row.userId)),
    findByAnyProviderId: (id: string) => Effect.map(findByAnyProviderId(id), Option.map((row) => row.userId))
  }
}

export type AdminUserQueries = ReturnType<typeof makeAdminUserQueries>
