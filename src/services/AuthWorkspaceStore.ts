/**
 * AuthWorkspaceStore: users by (provider, provider user id), workspaces, memberships and invites,
 * over the SqlClient (contract section 4.2). Every method decodes its own input with Schema, so a
 * caller may pass what arrived over the wire; bad input fails with `InvalidInput` and writes nothing.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { decodeInput } from "../schema/decode.js"
import type { Forbidden, InvalidInput, NotFound } from "../schema/errors.js"
import { GetOrCreateUserInput, Identity } from "../schema/store.js"
import type {
  AcceptInviteInput,
  ConsumeInviteInput,
  ConsumeInviteResult,
  CreateInviteInput,
  CreateWorkspaceInput,
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
import { Ids, nowMillis } from "./Ids.js"
import { onTestDatabase, withRandomIds } from "./serviceLayers.js"
import { storageDefects } from "./workspace/common.js"
import { makeInviteMethods } from "./workspace/inviteMethods.js"
import { makeInviteQueries } from "./workspace/invites.js"
import { makeUserQueries, normalizeDisplayName, normalizeEmail } from "./workspace/users.js"
import { makeWorkspaceMethods } from "./workspace/workspaceMethods.js"
import { makeWorkspaceQueries } from "./workspace/workspaces.js"

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

const decodeIdentity = decodeInput(Identity, "input")
const decodeGetOrCreateUser = decodeInput(GetOrCreateUserInput, "input")

/**
 * Builds the store over the SqlClient and Ids in context. Methods yield nothing of their own:
 * their requirements are met here, once. Workspace methods live in `./workspace/workspaceMethods.ts`,
 * invite methods in `./workspace/inviteMethods.ts`; the rules are listed in `docs/workspaces.md`.
 */
export const make: Effect.Effect<AuthWorkspaceStoreShape, never, SqlClient.SqlClient | Ids> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const ids = yield* Ids
  const users = makeUserQueries(sql, ids)
  const workspaces = makeWorkspaceQueries(sql, ids)
  const invites = makeInviteQueries(sql, ids)

  const getUser = Effect.fn("AuthWorkspaceStore.getUser")(function*(raw: unknown) {
    const found = yield* users.findByIdentity(yield* decodeIdentity(raw))
    if (Option.isNone(found)) return null
    const { displayName, email, userId } = found.value
    return {
      userId,
      ...(email === null ? {} : { email }),
      ...(displayName === null ? {} : { displayName })
    }
  }, storageDefects)

  /**
   * Idempotent and race-free: a known identity is answered without a write; a new one is created
   * inside a `BEGIN IMMEDIATE` transaction that looks again first. Writers are serialized (in this
   * process by the connection's semaphore, across processes by SQLite's write lock), so of many
   * concurrent first calls exactly one inserts and the others find its row. Email and display name
   * are stored on creation only (email trimmed and lower-cased; blank means none).
   */
  const getOrCreateUser = Effect.fn("AuthWorkspaceStore.getOrCreateUser")(function*(raw: unknown) {
    const input = yield* decodeGetOrCreateUser(raw)
    const known = yield* users.findByIdentity(input)
    if (Option.isSome(known)) return { userId: known.value.userId }
    const { userId } = yield* sql.withTransaction(
      Effect.flatMap(nowMillis, (now) =>
        users.findOrInsert({
          provider: input.provider,
          providerUserId: input.providerUserId,
          email: normalizeEmail(input.email),
          displayName: normalizeDisplayName(input.displayName)
        }, now))
    )
    return { userId }
  }, storageDefects)

  return {
    getUser,
    getOrCreateUser,
    ...makeWorkspaceMethods({ sql, users, workspaces }),
    ...makeInviteMethods({ sql, users, workspaces, invites })
  } satisfies AuthWorkspaceStoreShape
})

export class AuthWorkspaceStore extends Context.Tag("or3-provider-sqlite/services/AuthWorkspaceStore")<
  AuthWorkspaceStore,
  AuthWorkspaceStoreShape
>() {
  /** The store over the SqlClient and Ids in context. */
  static readonly DefaultWithoutDependencies: Layer.Layer<AuthWorkspaceStore, never, SqlClient.SqlClient | Ids> =
    Layer.effect(AuthWorkspaceStore, make)

  /** The store with random ids; needs a (migrated) SqlClient. */
  static readonly Default: Layer.Layer<AuthWorkspaceStore, never, SqlClient.SqlClient> = withRandomIds(
    AuthWorkspaceStore.DefaultWithoutDependencies
  )

  /**
   * A private, migrated in-memory database with sequential ids; the SqlClient is exposed too, so a
   * test can look at (or sabotage) the tables.
   */
  static readonly Test: Layer.Layer<AuthWorkspaceStore | SqlClient.SqlClient> = onTestDatabase(
    AuthWorkspaceStore.DefaultWithoutDependencies
  )
}
