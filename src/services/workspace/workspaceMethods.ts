/**
 * The workspace half of AuthWorkspaceStore: the default workspace, roles, listing, create, update,
 * remove and the active pointer. Every read-then-write runs in one write transaction, so a check
 * (role, membership, deleted flag) still holds when the write lands.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { decodeInput } from "../../schema/decode.js"
import { Forbidden, NotFound } from "../../schema/errors.js"
import { CreateWorkspaceInput, Id, UpdateWorkspaceInput, UserWorkspace } from "../../schema/store.js"
import type { AuthWorkspaceStoreShape } from "../AuthWorkspaceStore.js"
import { nowMillis } from "../Ids.js"
import { storageDefects } from "./common.js"
import type { UserQueries } from "./users.js"
import { defaultWorkspaceName, type WorkspaceQueries, type WorkspaceRef } from "./workspaces.js"

export interface WorkspaceMethodDeps {
  readonly sql: SqlClient.SqlClient
  readonly users: UserQueries
  readonly workspaces: WorkspaceQueries
}

type WorkspaceMethods = Pick<
  AuthWorkspaceStoreShape,
  | "getOrCreateDefaultWorkspace"
  | "getWorkspaceRole"
  | "listUserWorkspaces"
  | "createWorkspace"
  | "updateWorkspace"
  | "removeWorkspace"
  | "setActiveWorkspace"
>

const decodeUserId = decodeInput(Id, "userId")
const decodeUserWorkspace = decodeInput(UserWorkspace, "input")
const decodeCreate = decodeInput(CreateWorkspaceInput, "input")
const decodeUpdate = decodeInput(UpdateWorkspaceInput, "input")

const defaultResult = (workspace: WorkspaceRef, created: boolean) => ({
  workspaceId: workspace.id,
  workspaceName: workspace.name,
  created
})

export const makeWorkspaceMethods = ({ sql, users, workspaces }: WorkspaceMethodDeps): WorkspaceMethods => {
  const requireUser = (userId: string) =>
    Effect.flatMap(users.exists(userId), (found) =>
      found ? Effect.void : Effect.fail(new NotFound({ entity: "User", id: userId })))

  const requireLiveWorkspace = (workspaceId: string) =>
    Effect.flatMap(workspaces.findLive(workspaceId), (found) =>
      Option.isSome(found) ? Effect.void : Effect.fail(new NotFound({ entity: "Workspace", id: workspaceId })))

  /** The caller's role in a live workspace, or `Forbidden` when they are not a member. */
  const requireRole = (input: UserWorkspace, action: string) =>
    Effect.flatMap(workspaces.roleOf(input), (role) =>
      Option.isSome(role)
        ? Effect.succeed(role.value)
        : Effect.fail(new Forbidden({ ...input, action, reason: "not a member of this workspace" })))

  const getOrCreateDefaultWorkspace = Effect.fn("AuthWorkspaceStore.getOrCreateDefaultWorkspace")(
    function*(raw: string) {
      const userId = yield* decodeUserId(raw)
      // Every session resolution lands here: answer a valid pointer without taking the write lock.
      const current = yield* workspaces.validActive(userId)
      if (Option.isSome(current)) return defaultResult(current.value, false)
      // Repair or create under the write lock, re-checking first: concurrent first sessions of
      // one user run one after another, and only the first finds nothing and creates.
      return yield* sql.withTransaction(Effect.gen(function*() {
        yield* requireUser(userId)
        const active = yield* workspaces.validActive(userId)
        if (Option.isSome(active)) return defaultResult(active.value, false)
        const now = yield* nowMillis
        const earliest = yield* workspaces.earliestMembership(userId)
        if (Option.isSome(earliest)) {
          yield* users.setActiveWorkspace(userId, earliest.value.id, now)
          return defaultResult(earliest.value, false)
        }
        const workspaceId = yield* workspaces.insert(
          { ownerUserId: userId, name: defaultWorkspaceName, description: null },
          now
        )
        yield* users.setActiveWorkspace(userId, workspaceId, now)
        return defaultResult({ id: workspaceId, name: defaultWorkspaceName }, true)
      }))
    },
    storageDefects
  )

  const getWorkspaceRole = Effect.fn("AuthWorkspaceStore.getWorkspaceRole")(function*(raw: unknown) {
    const input = yield* decodeUserWorkspace(raw)
    return Option.getOrNull(yield* workspaces.roleOf(input))
  }, storageDefects)

  const listUserWorkspaces = Effect.fn("AuthWorkspaceStore.listUserWorkspaces")(function*(raw: string) {
    return yield* workspaces.listForUser(yield* decodeUserId(raw))
  }, storageDefects)

  const createWorkspace = Effect.fn("AuthWorkspaceStore.createWorkspace")(function*(raw: unknown) {
    const input = yield* decodeCreate(raw)
    return yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireUser(input.userId)
      const now = yield* nowMillis
      const workspaceId = yield* workspaces.insert(
        { ownerUserId: input.userId, name: input.name, description: input.description || null },
        now
      )
      // The active workspace is the user's choice: only a user without a valid one is moved.
      if (Option.isNone(yield* workspaces.validActive(input.userId))) {
        yield* users.setActiveWorkspace(input.userId, workspaceId, now)
      }
      return { workspaceId }
    }))
  }, storageDefects)

  const updateWorkspace = Effect.fn("AuthWorkspaceStore.updateWorkspace")(function*(raw: unknown) {
    const input = yield* decodeUpdate(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireLiveWorkspace(input.workspaceId)
      const role = yield* requireRole(input, "workspace.update")
      if (role === "viewer") {
        return yield* new Forbidden({
          userId: input.userId,
          workspaceId: input.workspaceId,
          action: "workspace.update",
          reason: "insufficient workspace role"
        })
      }
      // An absent description keeps the current one; null or blank clears it.
      const description = input.description === undefined ? undefined : input.description || null
      yield* workspaces.update(input.workspaceId, input.name, description, yield* nowMillis)
    }))
  }, storageDefects)

  const removeWorkspace = Effect.fn("AuthWorkspaceStore.removeWorkspace")(function*(raw: unknown) {
    const input = yield* decodeUserWorkspace(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireLiveWorkspace(input.workspaceId)
      const role = yield* requireRole(input, "workspace.remove")
      if (role !== "owner") {
        return yield* new Forbidden({ ...input, action: "workspace.remove", reason: "only the owner can remove a workspace" })
      }
      const now = yield* nowMillis
      yield* workspaces.softDelete(input.workspaceId, now, now)
      yield* workspaces.rehomeActiveUsers(input.workspaceId, now)
    }))
  }, storageDefects)

  const setActiveWorkspace = Effect.fn("AuthWorkspaceStore.setActiveWorkspace")(function*(raw: unknown) {
    const input = yield* decodeUserWorkspace(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireLiveWorkspace(input.workspaceId)
      yield* requireRole(input, "workspace.setActive")
      yield* users.setActiveWorkspace(input.userId, input.workspaceId, yield* nowMillis)
    }))
  }, storageDefects)

  return {
    getOrCreateDefaultWorkspace,
    getWorkspaceRole,
    listUserWorkspaces,
    createWorkspace,
    updateWorkspace,
    removeWorkspace,
    setActiveWorkspace
  }
}
