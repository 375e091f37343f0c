/**
 * The invite half of AuthWorkspaceStore. Accepting an invite touches users, auth_accounts,
 * workspace_members and workspace_invites; `acceptInviteAndProvisionUser` does all of it in one
 * write transaction, so a failure at any step leaves every table as it was.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { decodeInput } from "../../schema/decode.js"
import { InvalidInput, NotFound } from "../../schema/errors.js"
import { clampInt, Limits } from "../../schema/limits.js"
import {
  AcceptInviteInput,
  ConsumeInviteInput,
  type ConsumeInviteResult,
  CreateInviteInput,
  type InviteProvisionResult,
  type InviteValidationResult,
  ListInvitesInput,
  RevokeInviteInput,
  ValidateInviteInput
} from "../../schema/store.js"
import type { AuthWorkspaceStoreShape } from "../AuthWorkspaceStore.js"
import { nowMillis } from "../Ids.js"
import { storageDefects } from "./common.js"
import type { InviteQueries } from "./invites.js"
import { normalizeDisplayName, type UserQueries } from "./users.js"
import type { WorkspaceQueries } from "./workspaces.js"

export interface InviteMethodDeps {
  readonly sql: SqlClient.SqlClient
  readonly users: UserQueries
  readonly workspaces: WorkspaceQueries
  readonly invites: InviteQueries
}

type InviteMethods = Pick<
  AuthWorkspaceStoreShape,
  | "createInvite"
  | "listInvites"
  | "revokeInvite"
  | "validateInvite"
  | "consumeInvite"
  | "acceptInviteAndProvisionUser"
>

const decodeCreate = decodeInput(CreateInviteInput, "input")
const decodeList = decodeInput(ListInvitesInput, "input")
const decodeRevoke = decodeInput(RevokeInviteInput, "input")
const decodeValidate = decodeInput(ValidateInviteInput, "input")
const decodeConsume = decodeInput(ConsumeInviteInput, "input")
const decodeAccept = decodeInput(AcceptInviteInput, "input")

export const makeInviteMethods = ({ invites, sql, users, workspaces }: InviteMethodDeps): InviteMethods => {
  const createInvite = Effect.fn("AuthWorkspaceStore.createInvite")(function*(raw: unknown) {
    const input = yield* decodeCreate(raw)
    return yield* sql.withTransaction(Effect.gen(function*() {
      if (Option.isNone(yield* workspaces.findLive(input.workspaceId))) {
        return yield* new NotFound({ entity: "Workspace", id: input.workspaceId })
      }
      return { inviteId: yield* invites.insert(input, yield* nowMillis) }
    }))
  }, storageDefects)

  const listInvites = Effect.fn("AuthWorkspaceStore.listInvites")(function*(raw: unknown) {
    const input = yield* decodeList(raw)
    const limit = clampInt(input.limit, Limits.minInviteListLimit, Limits.maxInviteListLimit, Limits.defaultInviteListLimit)
    return yield* sql.withTransaction(Effect.gen(function*() {
      yield* invites.expireOverdue(input.workspaceId, yield* nowMillis)
      return yield* invites.list({ workspaceId: input.workspaceId, status: input.status, limit })
    }))
  }, storageDefects)

  const revokeInvite = Effect.fn("AuthWorkspaceStore.revokeInvite")(function*(raw: unknown) {
    const input = yield* decodeRevoke(raw)
    yield* sql.withTransaction(Effect.gen(function*() {
      const invite = yield* invites.findById(input)
      if (Option.isNone(invite)) return yield* new NotFound({ entity: "Invite", id: input.inviteId })
      // Only a pending invite can be revoked; an accepted, revoked or expired one stays as it is.
      if (invite.value.status === "pending") {
        yield* invites.revoke(invite.value.id, input.revokedByUserId, yield* nowMillis)
      }
    }))
  }, storageDefects)

  const validateInvite = Effect.fn("AuthWorkspaceStore.validateInvite")(function*(raw: unknown) {
    const input = yield* decodeValidate(raw)
    const found = yield* invites.lookupForEmail(input, yield* nowMillis)
    return (found.ok ? { ok: true, role: found.invite.role } : found) satisfies InviteValidationResult
  }, storageDefects)

  /**
   * Marks the invite accepted and makes `acceptedUserId` a member. A user who is already a member
   * keeps the stronger of their role and the invite's (an invite never demotes; changing a role
   * down is an owner's explicit act); `role` in the result is the role the user now has.
   */
  const consumeInvite = Effect.fn("AuthWorkspaceStore.consumeInvite")(function*(raw: unknown) {
    const input = yield* decodeConsume(raw)
    return yield* sql.withTransaction(Effect.gen(function*() {
      if (!(yield* users.exists(input.acceptedUserId))) {
        return yield* new InvalidInput({ field: "input.acceptedUserId", reason: "no such user" })
      }
      const now = yield* nowMillis
      const found = yield* invites.lookupForConsume(input, now)
      if (!found.ok) return found satisfies ConsumeInviteResult
      const role = yield* workspaces.grantMembership(input.workspaceId, input.acceptedUserId, found.invite.role, now)
      yield* invites.markAccepted(found.invite.id, input.acceptedUserId, now)
      return { ok: true, role } satisfies ConsumeInviteResult
    }))
  }, storageDefects)

  /**
   * Validates the invite, then creates the user and account if the identity is new, grants the
   * membership (the stronger role wins, as in `consumeInvite`), makes the workspace active and
   * marks the invite accepted: all in one write transaction, so it happens entirely or not at all.
   * A new user's email is the invite's (normalized) address.
   */
  const acceptInviteAndProvisionUser = Effect.fn("AuthWorkspaceStore.acceptInviteAndProvisionUser")(
    function*(raw: unknown) {
      const input = yield* decodeAccept(raw)
      return yield* sql.withTransaction(Effect.gen(function*() {
        const now = yield* nowMillis
        const found = yield* invites.lookupForEmail(input, now)
        if (!found.ok) return found satisfies InviteProvisionResult
        const user = yield* users.findOrInsert({
          provider: input.provider,
          providerUserId: input.providerUserId,
          email: input.email,
          displayName: normalizeDisplayName(input.displayName)
        }, now)
        const role = yield* workspaces.grantMembership(input.workspaceId, user.userId, found.invite.role, now)
        yield* users.setActiveWorkspace(user.userId, input.workspaceId, now)
        yield* invites.markAccepted(found.invite.id, user.userId, now)
        return { ok: true, userId: user.userId, role, createdUser: user.created } satisfies InviteProvisionResult
      }))
    },
    storageDefects
  )

  return { createInvite, listInvites, revokeInvite, validateInvite, consumeInvite, acceptInviteAndProvisionUser }
}
