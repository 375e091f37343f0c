/**
 * Workspace invites: storage, and the rules that decide whether a token opens an invite. The host
 * stores only a hash of the token; hashes are compared in constant time (`tokenHashesEqual`).
 *
 * Units: the host passes and reads every invite time in epoch SECONDS (`expiresAt` is
 * `floor(Date.now() / 1000) + ttl`), while the table keeps epoch milliseconds like every other
 * table. The conversion happens here and nowhere else: `expiresAt * 1000` on insert, whole seconds
 * (`column / 1000`, rounded down) on every read, and an invite is expired once
 * `expiresAt <= floor(now / 1000)`.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { createHash, timingSafeEqual } from "node:crypto"
import { Limits } from "../../schema/limits.js"
import {
  type CreateInviteInput,
  type InviteFailureReason,
  type WorkspaceInviteRecord,
  WorkspaceInviteStatus
} from "../../schema/store.js"
import type { IdsShape } from "../Ids.js"
import { WorkspaceRole } from "./common.js"

const InviteRow = Schema.Struct({
  id: Schema.String,
  workspaceId: Schema.String,
  email: Schema.String,
  role: WorkspaceRole,
  status: WorkspaceInviteStatus,
  invitedByUserId: Schema.String,
  expiresAt: Schema.Number,
  tokenHash: Schema.String,
  acceptedAt: Schema.NullOr(Schema.Number),
  acceptedUserId: Schema.NullOr(Schema.String),
  revokedAt: Schema.NullOr(Schema.Number),
  createdAt: Schema.Number,
  updatedAt: Schema.Number
})

// Integer division: whole seconds, rounded down (times are positive); NULL stays NULL.
const inviteColumns = `i.id AS id, i.workspace_id AS workspaceId, i.email AS email, i.role AS role,
  i.status AS status, i.invited_by_user_id AS invitedByUserId, i.expires_at / 1000 AS expiresAt,
  i.token_hash AS tokenHash, i.accepted_at / 1000 AS acceptedAt, i.accepted_user_id AS acceptedUserId,
  i.revoked_at / 1000 AS revokedAt, i.created_at / 1000 AS createdAt, i.updated_at / 1000 AS updatedAt`

/** Epoch milliseconds to the host's whole epoch seconds. */
const toSeconds = (millis: number) => Math.floor(millis / 1000)

const CandidatesRequest = Schema.Struct({ workspaceId: Schema.String, email: Schema.String })

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest()

/**
 * Equality of two token hashes whose time does not depend on where they differ: both sides are
 * digested to 32 bytes first, so `timingSafeEqual` also hides a difference in length.
 */
export const tokenHashesEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b))

/** The newest invite whose token hash equals `tokenHash`; every candidate is compared. */
const matchToken = (candidates: ReadonlyArray<WorkspaceInviteRecord>, tokenHash: string) => {
  let match: WorkspaceInviteRecord | undefined
  for (const candidate of candidates) {
    if (tokenHashesEqual(candidate.tokenHash, tokenHash) && match === undefined) match = candidate
  }
  return match
}

/** Why a matched invite cannot be used at `now` (epoch ms), or `undefined` when it can. */
const stateFailure = (invite: WorkspaceInviteRecord, now: number) =>
  invite.status === "accepted"
    ? "already_used" as const
    : invite.status === "revoked"
    ? "revoked" as const
    : invite.status === "expired" || invite.expiresAt <= toSeconds(now)
    ? "expired" as const
    : undefined

export type InviteLookup =
  | { readonly ok: true; readonly invite: WorkspaceInviteRecord }
  | { readonly ok: false; readonly reason: InviteFailureReason }

export type ConsumeLookup =
  | { readonly ok: true; readonly invite: WorkspaceInviteRecord }
  | { readonly ok: false; readonly reason: "not_found" | "expired" | "revoked" | "already_used" | "token_mismatch" }

export const makeInviteQueries = (sql: SqlClient.SqlClient, ids: IdsShape) => {
  const columns = sql.literal(inviteColumns)

  /**
   * Invites `validateInvite` may match: those addressed to `email`, plus every pending invite of the
   * workspace (so a token sent to someone else reads as `email_mismatch`). Used, revoked or expired
   * invites of other addresses are left out: their token is dead and says nothing to this caller.
   * Invites of a deleted workspace are never candidates.
   */
  const validationCandidates = SqlSchema.findAll({
    Request: CandidatesRequest,
    Result: InviteRow,
    execute: ({ email, workspaceId }) =>
      sql`SELECT ${columns} FROM workspace_invites i JOIN workspaces w ON w.id = i.workspace_id AND w.deleted = 0
          WHERE i.workspace_id = ${workspaceId} AND (i.email = ${email} OR i.status = 'pending')
          ORDER BY i.created_at DESC, i.id DESC`
  })

  /** Invites of a non-deleted workspace addressed to `email`, newest first. */
  const emailCandidates = SqlSchema.findAll({
    Request: CandidatesRequest,
    Result: InviteRow,
    execute: ({ email, workspaceId }) =>
      sql`SELECT ${columns} FROM workspace_invites i JOIN workspaces w ON w.id = i.workspace_id AND w.deleted = 0
          WHERE i.workspace_id = ${workspaceId} AND i.email = ${email}
          ORDER BY i.created_at DESC, i.id DESC`
  })

  /** The invite a token opens for `email`, or why it opens none (the `validateInvite` reasons). */
  const lookupForEmail = Effect.fnUntraced(function*(
    input: { readonly workspaceId: string; readonly email: string; readonly tokenHash: string },
    now: number
  ) {
    const invite = matchToken(yield* validationCandidates(input), input.tokenHash)
    if (invite === undefined) return { ok: false, reason: "not_found" } satisfies InviteLookup
    if (invite.email !== input.email) return { ok: false, reason: "email_mismatch" } satisfies InviteLookup
    const failure = stateFailure(invite, now)
    return (failure === undefined ? { ok: true, invite } : { ok: false, reason: failure }) satisfies InviteLookup
  })

  /** Like `lookupForEmail`, with the `consumeInvite` reasons: a wrong token is `token_mismatch`. */
  const lookupForConsume = Effect.fnUntraced(function*(
    input: { readonly workspaceId: string; readonly email: string; readonly tokenHash: string },
    now: number
  ) {
    const candidates = yield* emailCandidates(input)
    if (candidates.length === 0) return { ok: false, reason: "not_found" } satisfies ConsumeLookup
    const invite = matchToken(candidates, input.tokenHash)
    if (invite === undefined) return { ok: false, reason: "token_mismatch" } satisfies ConsumeLookup
    const failure = stateFailure(invite, now)
    return (failure === undefined ? { ok: true, invite } : { ok: false, reason: failure }) satisfies ConsumeLookup
  })

  const insert = Effect.fnUntraced(function*(input: CreateInviteInput, now: number) {
    const inviteId = yield* ids.uuid
    yield* sql`INSERT INTO workspace_invites ${
      sql.insert({
        id: inviteId,
        workspace_id: input.workspaceId,
        email: input.email,
        role: input.role,
        status: "pending",
        invited_by_user_id: input.invitedByUserId,
        token_hash: input.tokenHash,
        expires_at: input.expiresAt * 1000,
        accepted_at: null,
        accepted_user_id: null,
        revoked_at: null,
        created_at: now,
        updated_at: now
      })
    }`
    return inviteId
  })

  /** Marks pending invites of the workspace whose expiry has passed as `expired` (the rule above). */
  const expireOverdue = (workspaceId: string, now: number) =>
    sql`UPDATE workspace_invites SET status = 'expired', updated_at = ${now}
        WHERE workspace_id = ${workspaceId} AND status = 'pending' AND expires_at / 1000 <= ${toSeconds(now)}`

  const list = SqlSchema.findAll({
    Request: Schema.Struct({
      workspaceId: Schema.String,
      status: Schema.optional(WorkspaceInviteStatus),
      limit: Schema.Number
    }),
    Result: InviteRow,
    execute: ({ limit, status, workspaceId }) =>
      sql`SELECT ${columns} FROM workspace_invites i
          WHERE i.workspace_id = ${workspaceId} ${status === undefined ? sql`` : sql`AND i.status = ${status}`}
          ORDER BY i.created_at DESC, i.id DESC LIMIT ${limit}`
  })

  const findById = SqlSchema.findOne({
    Request: Schema.Struct({ workspaceId: Schema.String, inviteId: Schema.String }),
    Result: InviteRow,
    execute: ({ inviteId, workspaceId }) =>
      sql`SELECT ${columns} FROM workspace_invites i WHERE i.id = ${inviteId} AND i.workspace_id = ${workspaceId}`
  })

  const revoke = (inviteId: string, revokedByUserId: string, now: number) =>
    sql`UPDATE workspace_invites
        SET status = 'revoked', revoked_at = ${now}, revoked_by_user_id = ${revokedByUserId}, updated_at = ${now}
        WHERE id = ${inviteId} AND status = 'pending'`

  const markAccepted = (inviteId: string, userId: string, now: number) =>
    sql`UPDATE workspace_invites
        SET status = 'accepted', accepted_at = ${now}, accepted_user_id = ${userId}, updated_at = ${now}
        WHERE id = ${inviteId} AND status = 'pending'`

  return { lookupForEmail, lookupForConsume, insert, expireOverdue, list, findById, revoke, markAccepted }
}

export type InviteQueries = ReturnType<typeof makeInviteQueries>
