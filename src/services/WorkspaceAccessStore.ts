/**
 * WorkspaceAccessStore: what the OR3 admin dashboard does to workspaces and their members
 * (`shared/or3-admin-contract.md` section 3), over the same tables as AuthWorkspaceStore. Every
 * method decodes its own input; bad input fails with `InvalidInput` and writes nothing, and every
 * write is one transaction. Times are epoch milliseconds.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import {
  CreateWorkspaceAdminInput,
  ListWorkspacesInput,
  SearchUsersInput,
  SoftDeleteWorkspaceInput,
  type UserSearchHit,
  type WorkspaceMemberInfo,
  WorkspaceRef,
  type WorkspaceSummary
} from "../schema/admin.js"
import { decodeInput } from "../schema/decode.js"
import { type InvalidInput, type LastWorkspaceOwner, NotFound } from "../schema/errors.js"
import { clampInt, Limits } from "../schema/limits.js"
import { makeMemberMethods } from "./admin/memberMethods.js"
import { makeMemberQueries } from "./admin/members.js"
import { makeSummaryQueries } from "./admin/summaries.js"
import { makeAdminUserQueries } from "./admin/users.js"
import { Ids, nowMillis } from "./Ids.js"
import { onTestDatabase, withRandomIds } from "./serviceLayers.js"
import { storageDefects } from "./workspace/common.js"
import { makeUserQueries } from "./workspace/users.js"
import { makeWorkspaceQueries } from "./workspace/workspaces.js"

export interface WorkspaceAccessStoreShape {
  /** Members oldest first, with their e-mail when known; `[]` for an unknown workspace. */
  readonly listMembers: (input: unknown) => Effect.Effect<ReadonlyArray<WorkspaceMemberInfo>, InvalidInput>
  /** Adds a member by e-mail, provider user id or user id (a new e-mail provisions a user). */
  readonly upsertMember: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound | LastWorkspaceOwner>
  /** Changes a member's role; the last owner cannot be demoted. */
  readonly setMemberRole: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound | LastWorkspaceOwner>
  /** Removes a member (not the user); the last owner cannot be removed. */
  readonly removeMember: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound | LastWorkspaceOwner>
  /** Every workspace of the deployment matching the filter: one page, newest first, and the total. */
  readonly listWorkspaces: (
    input: unknown
  ) => Effect.Effect<{ readonly items: ReadonlyArray<WorkspaceSummary>; readonly total: number }, InvalidInput>
  /** One workspace, deleted ones included; null when it does not exist. */
  readonly getWorkspace: (input: unknown) => Effect.Effect<WorkspaceSummary | null, InvalidInput>
  /** Succeeds when the workspace exists, deleted ones included; else `NotFound`. One indexed read. */
  readonly requireWorkspace: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound>
  /** A new workspace owned by an existing user. */
  readonly createWorkspace: (input: unknown) => Effect.Effect<{ workspaceId: string }, InvalidInput | NotFound>
  /** Marks a workspace deleted at the host's `deletedAt` (ms); idempotent. */
  readonly softDeleteWorkspace: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound>
  /** Undoes a soft delete; idempotent. */
  readonly restoreWorkspace: (input: unknown) => Effect.Effect<void, InvalidInput | NotFound>
  /** Users whose e-mail, display name or id contains the query. */
  readonly searchUsers: (input: unknown) => Effect.Effect<ReadonlyArray<UserSearchHit>, InvalidInput>
}

const decodeWorkspace = decodeInput(WorkspaceRef, "input")
const decodeList = decodeInput(ListWorkspacesInput, "input")
const decodeCreate = decodeInput(CreateWorkspaceAdminInput, "input")
const decodeSoftDelete = decodeInput(SoftDeleteWorkspaceInput, "input")
const decodeSearch = decodeInput(SearchUsersInput, "input")

export const make: Effect.Effect<WorkspaceAccessStoreShape, never, SqlClient.SqlClient | Ids> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const ids = yield* Ids
  const users = makeUserQueries(sql, ids)
  const adminUsers = makeAdminUserQueries(sql)
  const workspaces = makeWorkspaceQueries(sql, ids)
  const summaries = makeSummaryQueries(sql)

  const requireWorkspace = (workspaceId: string) =>
    Effect.flatMap(summaries.exists(workspaceId), (found) =>
      found ? Effect.void : Effect.fail(new NotFound({ entity: "Workspace", id: workspaceId })))

  /** page ≥ 1 and perPage in 1..100 (20 when absent or NaN), as the host's route clamps them. */
  const listWorkspaces = Effect.fn("WorkspaceAccessStore.listWorkspaces")(function*(raw: unknown) {
    const input = yield* decodeList(raw)
    const page = clampInt(input.page, 1, Limits.maxAdminPage, 1, "fallback")
    const perPage = clampInt(
      input.perPage,
      Limits.minAdminPageSize,
      Limits.maxAdminPageSize,
      Limits.defaultAdminPageSize,
      "fallback"
    )
    const filter = { search: input.search ?? "", includeDeleted: input.includeDeleted === true }
    return yield* summaries.list(filter, page, perPage)
  }, storageDefects)

  const getWorkspace = Effect.fn("WorkspaceAccessStore.getWorkspace")(function*(raw: unknown) {
    const { workspaceId } = yield* decodeWorkspace(raw)
    return Option.getOrNull(yield* summaries.get(workspaceId))
  }, storageDefects)

  const requireWorkspaceMethod = Effect.fn("WorkspaceAccessStore.requireWorkspace")(function*(raw: unknown) {
    const { workspaceId } = yield* decodeWorkspace(raw)
    yield* requireWorkspace(workspaceId)
  }, storageDefects)

  /** The workspace and its owner's membership; the owner must be an existing user. */
  const createWorkspace = Effect.fn("WorkspaceAccessStore.createWorkspace")(function*(raw: unknown) {
    const input = yield* decodeCreate(raw)
    return yield* sql.withTransaction(Effect.gen(function*() {
      if (!(yield* users.exists(input.ownerUserId))) {
        return yield* new NotFound({ entity: "Owner user", id: input.ownerUserId })
      }
      const workspaceId = yield* workspaces.insert(
        { ownerUserId: input.ownerUserId, name: input.name, description: input.description || null },
        yield* nowMillis
      )
      return { workspaceId }
    }))
  }, storageDefects)

  /**
   * Marks the workspace deleted; users whose active workspace it was move to their earliest other
   * membership, as when an owner removes it. Memberships, invites and synced data stay, so a
   * restore brings it back whole. Deleting a deleted workspace keeps the first `deletedAt`.
   */
  const softDeleteWorkspace = Effect.fn("WorkspaceAccessStore.softDeleteWorkspace")(function*(raw: unknown) {
    const input = yield* decodeSoftDelete(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireWorkspace(input.workspaceId)
      const now = yield* nowMillis
      yield* workspaces.softDelete(input.workspaceId, input.deletedAt, now)
      yield* workspaces.rehomeActiveUsers(input.workspaceId, now)
    }))
  }, storageDefects)

  const restoreWorkspace = Effect.fn("WorkspaceAccessStore.restoreWorkspace")(function*(raw: unknown) {
    const { workspaceId } = yield* decodeWorkspace(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireWorkspace(workspaceId)
      yield* summaries.restore(workspaceId, yield* nowMillis)
    }))
  }, storageDefects)

  const searchUsers = Effect.fn("WorkspaceAccessStore.searchUsers")(function*(raw: unknown) {
    return yield* adminUsers.searchUsers(yield* decodeSearch(raw))
  }, storageDefects)

  return {
    ...makeMemberMethods({ sql, users, adminUsers, workspaces, members: makeMemberQueries(sql, workspaces) }),
    listWorkspaces,
    getWorkspace,
    requireWorkspace: requireWorkspaceMethod,
    createWorkspace,
    softDeleteWorkspace,
    restoreWorkspace,
    searchUsers
  } satisfies WorkspaceAccessStoreShape
})

export class WorkspaceAccessStore extends Context.Tag("or3-provider-sqlite/services/WorkspaceAccessStore")<
  WorkspaceAccessStore,
  WorkspaceAccessStoreShape
>() {
  /** The store over the SqlClient and Ids in context. */
  static readonly DefaultWithoutDependencies: Layer.Layer<WorkspaceAccessStore, never, SqlClient.SqlClient | Ids> =
    Layer.effect(WorkspaceAccessStore, make)

  /** The store with random ids; needs a (migrated) SqlClient. */
  static readonly Default: Layer.Layer<WorkspaceAccessStore, never, SqlClient.SqlClient> = withRandomIds(
    WorkspaceAccessStore.DefaultWithoutDependencies
  )

  /** A private, migrated in-memory database with sequential ids; the SqlClient is exposed too. */
  static readonly Test: Layer.Layer<WorkspaceAccessStore | SqlClient.SqlClient> = onTestDatabase(
    WorkspaceAccessStore.DefaultWithoutDependencies
  )
}
