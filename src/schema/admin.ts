/**
 * Schema definitions of the admin store inputs and results (`shared/or3-admin-contract.md`
 * sections 3-5). Each input is decoded by the service method that takes it, so the facades pass
 * on what the host sent; a bad value fails with `InvalidInput` before anything is read or written.
 */
/// <reference lib="es2024.string" />
import * as Schema from "effect/Schema"
import type * as HostAdmin from "../or3/adminTypes.js"
import { Limits } from "./limits.js"
import { emailPattern, Id, WorkspaceDescription, WorkspaceName, WorkspaceRole } from "./store.js"
import { BoundedString, NonNegativeInt, TrimmedString } from "./wire.js"

/** Optional in the host's types, and sometimes sent as null. */
const Optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(schema))

/** A search text: trimmed, at most `Limits.maxSearchLength` characters (empty means "no filter"). */
const SearchText = Schema.Trim.pipe(Schema.maxLength(Limits.maxSearchLength))

export const WorkspaceRef = Schema.Struct({ workspaceId: Id })
export const MemberRef = Schema.Struct({ workspaceId: Id, userId: Id })
export const UserRef = Schema.Struct({ userId: Id })

export const SetMemberRoleInput = Schema.Struct({ workspaceId: Id, userId: Id, role: WorkspaceRole })

/**
 * Whom `upsertMember` adds: a value with an `@` is an e-mail and must look like one; anything else
 * is a provider user id or a user id, at most `Limits.maxIdentifierLength` characters.
 */
export const EmailOrProviderId = TrimmedString(Limits.maxEmailLength).pipe(
  Schema.filter((text) =>
    text.includes("@")
      ? emailPattern.test(text) ? undefined : "must be an e-mail address (it contains an @)"
      : text.length <= Limits.maxIdentifierLength
      ? undefined
      : `must be at most ${Limits.maxIdentifierLength} characters (a provider id)`
  )
)

export const UpsertMemberInput = Schema.Struct({
  workspaceId: Id,
  emailOrProviderId: EmailOrProviderId,
  role: WorkspaceRole,
  /** The auth provider of a provider id; blank means "any provider". */
  provider: Optional(Schema.Trim.pipe(Schema.maxLength(Limits.maxIdentifierLength)))
})
export type UpsertMemberInput = typeof UpsertMemberInput.Type

/** `page` and `perPage` may arrive as NaN (the host parses query strings); the store clamps them. */
export const ListWorkspacesInput = Schema.Struct({
  search: Optional(SearchText),
  includeDeleted: Optional(Schema.Boolean),
  page: Optional(Schema.Number),
  perPage: Optional(Schema.Number)
})

export const CreateWorkspaceAdminInput = Schema.Struct({
  name: WorkspaceName,
  description: Schema.optional(WorkspaceDescription),
  ownerUserId: Id
})

/** `deletedAt` is epoch milliseconds: the host passes `Date.now()`. */
export const SoftDeleteWorkspaceInput = Schema.Struct({ workspaceId: Id, deletedAt: NonNegativeInt })

export const SearchUsersInput = Schema.Struct({ query: SearchText, limit: Optional(Schema.Number) })

export const GrantAdminInput = Schema.Struct({ userId: Id, createdByUserId: Optional(Id) })

/** A settings key is kept exactly as sent (keys such as `plugin:<id>:setup-values` are exact). */
export const SettingKey = BoundedString(Limits.maxSettingKeyLength)

/** A settings value: any well-formed string up to `Limits.maxSettingValueLength` characters. */
export const SettingValue = Schema.String.pipe(
  Schema.filter((text) =>
    text.length > Limits.maxSettingValueLength
      ? `must be at most ${Limits.maxSettingValueLength} characters`
      : text.isWellFormed() ? undefined : "must be well-formed Unicode"
  )
)

// The results the host's admin pages read are the host's own types (`../or3/adminTypes.ts`),
// read-only here: one declaration of each shape.

/** A workspace member as the admin pages list it. */
export type WorkspaceMemberInfo = Readonly<HostAdmin.WorkspaceMemberInfo>

/** A workspace as the admin pages list it; times are epoch milliseconds. */
export type WorkspaceSummary = Readonly<HostAdmin.WorkspaceSummary>

/** A user search hit. */
export type UserSearchHit = Readonly<HostAdmin.AdminUserSearchResult>

/** A deployment admin; `createdAt` (when granted) is epoch milliseconds. */
export type AdminUserInfo = Readonly<HostAdmin.AdminUserInfo>
