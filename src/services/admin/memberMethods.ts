/**
 * The member half of WorkspaceAccessStore: list, upsert, set role, remove. Each write runs in one
 * write transaction, so a lookup, a provisioned user, an ownership transfer and the membership
 * change land together or not at all. Members are read from the tables on every call: the host's
 * session resolution calls `getWorkspaceRole`, which reads the same rows, so a change reaches the
 * member's next request with nothing cached in between.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { MemberRef, SetMemberRoleInput, UpsertMemberInput, WorkspaceRef } from "../../schema/admin.js"
import { decodeInput } from "../../schema/decode.js"
import { NotFound } from "../../schema/errors.js"
import { nowMillis } from "../Ids.js"
import type { WorkspaceAccessStoreShape } from "../WorkspaceAccessStore.js"
import { storageDefects } from "../workspace/common.js"
import type { UserQueries } from "../workspace/users.js"
import type { WorkspaceQueries } from "../workspace/workspaces.js"
import type { MemberQueries } from "./members.js"
import type { AdminUserQueries } from "./users.js"

export interface MemberMethodDeps {
  readonly sql: SqlClient.SqlClient
  readonly users: UserQueries
  readonly adminUsers: AdminUserQueries
  readonly workspaces: WorkspaceQueries
  readonly members: MemberQueries
}

type MemberMethods = Pick<WorkspaceAccessStoreShape, "listMembers" | "upsertMember" | "setMemberRole" | "removeMember">

const decodeWorkspace = decodeInput(WorkspaceRef, "input")
const decodeUpsert = decodeInput(UpsertMemberInput, "input")
const decodeSetRole = decodeInput(SetMemberRoleInput, "input")
const decodeMember = decodeInput(MemberRef, "input")

/** The provider recorded for a provider id an admin adds without naming its provider. */
export const UNKNOWN_PROVIDER = "custom"

export const makeMemberMethods = ({ adminUsers, members, sql, users, workspaces }: MemberMethodDeps): MemberMethods => {
  /**
   * The user `upsertMember` means (contract 3): an e-mail finds a user with it (one who signs in
   * first, see `findByEmail`), or a new user with that e-mail and no account. Anything else is
   * tried as a provider user id (on the named provider, else on any), then as a user id; if nothing
   * matches, a user is created with an account (`provider`, or `custom`) for that id, so their
   * first sign-in finds the membership.
   */
  const resolveUser = Effect.fnUntraced(function*(input: UpsertMemberInput, now: number) {
    const value = input.emailOrProviderId
    if (value.includes("@")) {
      const email = value.toLowerCase()
      const found = yield* adminUsers.findByEmail(email)
      return Option.isSome(found) ? found.value : yield* users.insertUser({ email, displayName: null }, now)
    }
    const provider = input.provider || undefined
    const account = provider === undefined
      ? yield* adminUsers.findByAnyProviderId(value)
      : Option.map(yield* users.findByIdentity({ provider, providerUserId: value }), (user) => user.userId)
    if (Option.isSome(account)) return account.value
    if (yield* users.exists(value)) return value
    return yield* users.insert(
      { provider: provider ?? UNKNOWN_PROVIDER, providerUserId: value, email: null, displayName: null },
      now
    )
  })

  const listMembers = Effect.fn("WorkspaceAccessStore.listMembers")(function*(raw: unknown) {
    const { workspaceId } = yield* decodeWorkspace(raw)
    return yield* members.listMembers(workspaceId)
  }, storageDefects)

  /** Adds a member, or changes an existing member's role (with the same rules as `setMemberRole`). */
  const upsertMember = Effect.fn("WorkspaceAccessStore.upsertMember")(function*(raw: unknown) {
    const input = yield* decodeUpsert(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      if (Option.isNone(yield* workspaces.findLive(input.workspaceId))) {
        return yield* new NotFound({ entity: "Workspace", id: input.workspaceId })
      }
      const now = yield* nowMillis
      const userId = yield* resolveUser(input, now)
      if (Option.isSome(yield* workspaces.membershipRole(input.workspaceId, userId))) {
        yield* members.setRole(input.workspaceId, userId, input.role)
      } else {
        yield* members.insert(input.workspaceId, userId, input.role, now)
      }
    }))
  }, storageDefects)

  const setMemberRole = Effect.fn("WorkspaceAccessStore.setMemberRole")(function*(raw: unknown) {
    const input = yield* decodeSetRole(raw)
    yield* sql.withTransaction(members.setRole(input.workspaceId, input.userId, input.role))
  }, storageDefects)

  const removeMember = Effect.fn("WorkspaceAccessStore.removeMember")(function*(raw: unknown) {
    const input = yield* decodeMember(raw)
    yield* sql.withTransaction(members.remove(input.workspaceId, input.userId))
  }, storageDefects)

  return { listMembers, upsertMember, setMemberRole, removeMember }
}
