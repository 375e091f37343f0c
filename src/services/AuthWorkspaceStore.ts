/**
 * AuthWorkspaceStore: users by (provider, provider user id), workspaces, memberships and invites,
 * over the SqlClient (contract section 4.2). Every method decodes its own input with Schema, so a
 * caller may pass what arrived over the wire; bad input fails with `InvalidInput` and writes nothing.
 */
import { Context, Effect, Layer } from "effect"
import type { Forbidden, InvalidInput, NotFound } from "../schema/errors.js"
import type {
  AcceptInviteInput,
  ConsumeInviteInput,
  ConsumeInviteResult,
  CreateInviteInput,
  CreateWorkspaceInput,
  GetOrCreateUserInput,
  Identity,
  InviteProvisionResult,
  InviteValidationResult,
  ListInvitesInput,
  RevokeInviteInput,
  UpdateWorkspaceInput,
  UserWorkspace,
  UserWorkspaceSummary,
  ValidateInviteInput,
  WorkspaceInviteRecord,
  WorkspaceRole
} from "../schema/store.js"

type In<A> = { readonly [K in keyof A]: unknown }

export interface AuthWorkspaceStoreShape {
  /** Looks a user up by identity; never creates one. */
  readonly getUser: (
    input: In<Identity>
  ) => Effect.Effect<{ userId: string; email?: string; displayName?: string } | null, InvalidInput>
  /** The user of an identity, created on first sight; idempotent and safe under concurrency. */
  readonly getOrCreateUser: (input: In<GetOrCreateUserInput>) => Effect.Effect<{ userId: string }, InvalidInput>
  /** The user's valid active workspace, repaired or created ("My Workspace") when there is none. */
  readonly getOrCreateDefaultWorkspace: (
    userId: string
  ) => Effect.Effect<{ workspaceId: string; workspaceName: string; created: boolean }, InvalidInput | NotFound>
  /** The member's role; null for non-members and deleted workspaces. */
  readonly getWorkspaceRole: (input: In<UserWorkspace>) => Effect.Effect<WorkspaceRole | null, InvalidInput>
  /** Non-deleted workspaces the user belongs to, oldest first. */
  readonly listUserWorkspaces: (userId: string) => Effect.Effect<ReadonlyArray<UserWorkspaceSummary>, InvalidInput>
  readonly createWorkspace: (
    input: In<CreateWorkspaceInput>
  ) => Effect.Effect<{ workspaceId: string }, InvalidInput | NotFound>
  readonly updateWorkspace: (input: In<UpdateWorkspaceInput>) => Effect.Effect<void, InvalidInput | NotFound | Forbidden>
  readonly removeWorkspace: (input: In<UserWorkspace>) => Effect.Effect<void, InvalidInput | NotFound | Forbidden>
  readonly setActiveWorkspace: (input: In<UserWorkspace>) => Effect.Effect<void, InvalidInput | NotFound | Forbidden>
  readonly createInvite: (input: In<CreateInviteInput>) => Effect.Effect<{ inviteId: string }, InvalidInput | NotFound>
  readonly listInvites: (
    input: In<ListInvitesInput>
  ) => Effect.Effect<ReadonlyArray<WorkspaceInviteRecord>, InvalidInput>
  readonly revokeInvite: (input: In<RevokeInviteInput>) => Effect.Effect<void, InvalidInput | NotFound>
  readonly validateInvite: (input: In<ValidateInviteInput>) => Effect.Effect<InviteValidationResult, InvalidInput>
  readonly consumeInvite: (input: In<ConsumeInviteInput>) => Effect.Effect<ConsumeInviteResult, InvalidInput>
  readonly acceptInviteAndProvisionUser: (
    input: In<AcceptInviteInput>
  ) => Effect.Effect<InviteProvisionResult, InvalidInput>
}

export class AuthWorkspaceStore extends Context.Tag("or3-provider-sqlite/services/AuthWorkspaceStore")<
  AuthWorkspaceStore,
  AuthWorkspaceStoreShape
>() {}
