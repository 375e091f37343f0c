/**
 * Schema definitions of the AuthWorkspaceStore inputs and results (contract section 4.2).
 * Names and descriptions follow the workspace endpoints' rules; emails are normalized on decode.
 */
import * as Schema from "effect/Schema"
import { Limits } from "./limits.js"
import { BoundedString, NonNegativeInt, TrimmedString } from "./wire.js"

export const WorkspaceRole = Schema.Literal("owner", "editor", "viewer")
export type WorkspaceRole = typeof WorkspaceRole.Type

export const WorkspaceInviteStatus = Schema.Literal("pending", "accepted", "revoked", "expired")
export type WorkspaceInviteStatus = typeof WorkspaceInviteStatus.Type

/** A user, workspace or invite id as the stores accept it: trimmed, 1..256 characters. */
export const Id = TrimmedString(Limits.maxIdentifierLength)

/** What an e-mail address looks like here: one `@`, no spaces. */
export const emailPattern = /^[^\s@]+@[^\s@]+$/

/** An email: trimmed and lower-cased, 3..`Limits.maxEmailLength` characters with an `@`. */
export const Email = Schema.compose(Schema.Trim, Schema.Lowercase).pipe(
  Schema.minLength(3),
  Schema.maxLength(Limits.maxEmailLength),
  Schema.pattern(emailPattern)
)

export const WorkspaceName = TrimmedString(Limits.maxWorkspaceNameLength)

/** A description: trimmed; empty means none. */
export const WorkspaceDescription = Schema.NullishOr(
  Schema.Trim.pipe(Schema.maxLength(Limits.maxWorkspaceDescriptionLength))
)

export const Identity = Schema.Struct({ provider: Id, providerUserId: Id })
export type Identity = typeof Identity.Type

export const GetOrCreateUserInput = Schema.Struct({
  provider: Id,
  providerUserId: Id,
  email: Schema.optional(Schema.String),
  displayName: Schema.optional(Schema.String)
})
export type GetOrCreateUserInput = typeof GetOrCreateUserInput.Type

export const UserWorkspace = Schema.Struct({ userId: Id, workspaceId: Id })
export type UserWorkspace = typeof UserWorkspace.Type

export const CreateWorkspaceInput = Schema.Struct({
  userId: Id,
  name: WorkspaceName,
  description: Schema.optional(WorkspaceDescription)
})
export type CreateWorkspaceInput = typeof CreateWorkspaceInput.Type

export const UpdateWorkspaceInput = Schema.Struct({
  userId: Id,
  workspaceId: Id,
  name: WorkspaceName,
  description: Schema.optional(WorkspaceDescription)
})
export type UpdateWorkspaceInput = typeof UpdateWorkspaceInput.Type

/** A time in whole epoch seconds, the unit of every invite time the host passes or reads. */
export const EpochSeconds = NonNegativeInt.pipe(
  Schema.filter((n) => n <= Limits.maxEpochSeconds || `must be in epoch seconds (at most ${Limits.maxEpochSeconds})`)
)

export const CreateInviteInput = Schema.Struct({
  workspaceId: Id,
  email: Email,
  role: WorkspaceRole,
  invitedByUserId: Id,
  expiresAt: EpochSeconds,
  tokenHash: BoundedString(Limits.maxIdentifierLength)
})
export type CreateInviteInput = typeof CreateInviteInput.Type

export const ListInvitesInput = Schema.Struct({
  workspaceId: Id,
  status: Schema.optional(WorkspaceInviteStatus),
  limit: Schema.optional(Schema.Number)
})
export type ListInvitesInput = typeof ListInvitesInput.Type

export const RevokeInviteInput = Schema.Struct({
  workspaceId: Id,
  inviteId: Id,
  revokedByUserId: Id
})
export type RevokeInviteInput = typeof RevokeInviteInput.Type

export const ValidateInviteInput = Schema.Struct({
  workspaceId: Id,
  email: Email,
  tokenHash: BoundedString(Limits.maxIdentifierLength)
})
export type ValidateInviteInput = typeof ValidateInviteInput.Type

export const ConsumeInviteInput = Schema.Struct({
  workspaceId: Id,
  email: Email,
  tokenHash: BoundedString(Limits.maxIdentifierLength),
  acceptedUserId: Id
})
export type ConsumeInviteInput = typeof ConsumeInviteInput.Type

export const AcceptInviteInput = Schema.Struct({
  provider: Id,
  providerUserId: Id,
  email: Email,
  displayName: Schema.optional(Schema.String),
  workspaceId: Id,
  tokenHash: BoundedString(Limits.maxIdentifierLength)
})
export type AcceptInviteInput = typeof AcceptInviteInput.Type

/** An invite as the host reads it: every time in epoch seconds (or3-admin-contract 7-8). */
export interface WorkspaceInviteRecord {
  readonly id: string
  readonly workspaceId: string
  readonly email: string
  readonly role: WorkspaceRole
  readonly status: WorkspaceInviteStatus
  readonly invitedByUserId: string
  readonly expiresAt: number
  readonly tokenHash: string
  readonly acceptedAt: number | null
  readonly acceptedUserId: string | null
  readonly revokedAt: number | null
  readonly createdAt: number
  readonly updatedAt: number
}

export interface UserWorkspaceSummary {
  readonly id: string
  readonly name: string
  readonly description: string | null
  readonly role: WorkspaceRole
  readonly createdAt: number
  readonly isActive: boolean
}

export type InviteFailureReason = "not_found" | "email_mismatch" | "already_used" | "revoked" | "expired"

export type InviteValidationResult =
  | { readonly ok: true; readonly role: WorkspaceRole }
  | { readonly ok: false; readonly reason: InviteFailureReason }

export type ConsumeInviteResult =
  | { readonly ok: true; readonly role: WorkspaceRole }
  | { readonly ok: false; readonly reason: "not_found" | "expired" | "revoked" | "already_used" | "token_mismatch" }

export type InviteProvisionResult =
  | { readonly ok: true; readonly userId: string; readonly role: WorkspaceRole; readonly createdUser: boolean }
  | { readonly ok: false; readonly reason: InviteFailureReason }
