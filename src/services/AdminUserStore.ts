/**
 * AdminUserStore: deployment-admin grants (`shared/or3-admin-contract.md` section 5), and the
 * question the host's deployment-admin checker asks with a sign-in identity rather than a user
 * id. Grants and revokes are idempotent; `createdAt` is when the grant was made, epoch ms.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type AdminUserInfo, GrantAdminInput, SearchUsersInput, type UserSearchHit, UserRef } from "../schema/admin.js"
import { decodeInput } from "../schema/decode.js"
import { type InvalidInput, NotFound } from "../schema/errors.js"
import { Identity } from "../schema/store.js"
import { makeAdminUserQueries, userHit } from "./admin/users.js"
import { Ids, nowMillis } from "./Ids.js"
import { onTestDatabase, withRandomIds } from "./serviceLayers.js"
import { storageDefects } from "./workspace/common.js"
import { makeUserQueries } from "./workspace/users.js"

export interface AdminUserStoreShape {
  /** Admins whose user still exists, newest grant first. */
  readonly listAdmins: Effect.Effect<ReadonlyArray<AdminUserInfo>>
  /** Grants an existing user; granting again keeps the first grant. */
  readonly grantAdmin: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound>
  /** Revokes a grant; revoking a user without one does nothing. */
  readonly revokeAdmin: (input: unknown) => Effect.Effect<void, InvalidInput>
  readonly isAdmin: (input: unknown) => Effect.Effect<boolean, InvalidInput>
  /**
   * Whether the user signed in as (provider, provider user id) holds a grant. An identity that is
   * malformed, unknown or not linked to a granted user is not an admin: this never fails on input,
   * because the host asks it while resolving every session.
   */
  readonly isAdminIdentity: (input: unknown) => Effect.Effect<boolean>
  readonly searchUsers: (input: unknown) => Effect.Effect<ReadonlyArray<UserSearchHit>, InvalidInput>
}

const AdminRow = Schema.Struct({
  userId: Schema.String,
  email: Schema.NullOr(Schema.String),
  displayName: Schema.NullOr(Schema.String),
  createdAt: Schema.Number
})

const decodeGrant = decodeInput(GrantAdminInput, "input")
const decodeUser = decodeInput(UserRef, "input")
const decodeSearch = decodeInput(SearchUsersInput, "input")
const decodeIdentity = decodeInput(Identity, "input")

export const make: Effect.Effect<AdminUserStoreShape, never, SqlClient.SqlClient | Ids> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const users = makeUserQueries(sql, yield* Ids)
  const adminUsers = makeAdminUserQueries(sql)

  const admins = SqlSchema.findAll({
    Request: Schema.Void,
    Result: AdminRow,
    // CROSS JOIN fixes the join order: a few grants looked up in users, never users scanned for grants.
    execute: () =>
      sql`SELECT g.user_id AS userId, u.email AS email, u.display_name AS displayName, g.created_at AS createdAt
          FROM admin_users g CROSS JOIN users u ON u.id = g.user_id
          ORDER BY g.created_at DESC, g.user_id`
  })

  const listAdmins = Effect.map(admins(undefined), (rows) =>
    rows.map((row): AdminUserInfo => ({ ...userHit(row), createdAt: row.createdAt }))).pipe(
      Effect.orDie,
      Effect.withSpan("AdminUserStore.listAdmins")
    )

  const grantAdmin = Effect.fn("AdminUserStore.grantAdmin")(function*(raw: unknown) {
    const input = yield* decodeGrant(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      if (!(yield* users.exists(input.userId))) return yield* new NotFound({ entity: "User", id: input.userId })
      yield* sql`INSERT INTO admin_users ${
        sql.insert({ user_id: input.userId, created_at: yield* nowMillis, created_by: input.createdByUserId ?? null })
      } ON CONFLICT (user_id) DO NOTHING`
    }))
  }, storageDefects)

  const revokeAdmin = Effect.fn("AdminUserStore.revokeAdmin")(function*(raw: unknown) {
    const { userId } = yield* decodeUser(raw)
    yield* sql`DELETE FROM admin_users WHERE user_id = ${userId}`
  }, storageDefects)

  const isAdmin = Effect.fn("AdminUserStore.isAdmin")(function*(raw: unknown) {
    const { userId } = yield* decodeUser(raw)
    return (yield* sql`SELECT 1 FROM admin_users WHERE user_id = ${userId}`).length > 0
  }, storageDefects)

  const isAdminIdentity = Effect.fn("AdminUserStore.isAdminIdentity")(function*(raw: unknown) {
    const identity = yield* Effect.option(decodeIdentity(raw))
    if (Option.isNone(identity)) return false
    const { provider, providerUserId } = identity.value
    const rows = yield* sql`
      SELECT 1 FROM auth_accounts a JOIN admin_users g ON g.user_id = a.user_id
      WHERE a.provider = ${provider} AND a.provider_user_id = ${providerUserId}`
    return rows.length > 0
  }, Effect.orDie)

  const searchUsers = Effect.fn("AdminUserStore.searchUsers")(function*(raw: unknown) {
    return yield* adminUsers.searchUsers(yield* decodeSearch(raw))
  }, storageDefects)

  return { listAdmins, grantAdmin, revokeAdmin, isAdmin, isAdminIdentity, searchUsers } satisfies AdminUserStoreShape
})

export class AdminUserStore extends Context.Tag("or3-provider-sqlite/services/AdminUserStore")<
  AdminUserStore,
  AdminUserStoreShape
>() {
  /** The store over the SqlClient and Ids in context. */
  static readonly DefaultWithoutDependencies: Layer.Layer<AdminUserStore, never, SqlClient.SqlClient | Ids> = Layer
    .effect(AdminUserStore, make)

  /** Needs a (migrated) SqlClient. */
  static readonly Default: Layer.Layer<AdminUserStore, never, SqlClient.SqlClient> = withRandomIds(
    AdminUserStore.DefaultWithoutDependencies
  )

  /** A private, migrated in-memory database with sequential ids; the SqlClient is exposed too. */
  static readonly Test: Layer.Layer<AdminUserStore | SqlClient.SqlClient> = onTestDatabase(
    AdminUserStore.DefaultWithoutDependencies
  )
}
