/**
 * Workspaces, memberships and the active-workspace pointer. A workspace counts only while
 * `deleted = 0`; a membership of a deleted workspace is kept (an admin may restore it) but grants
 * nothing.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { IdsShape } from "../Ids.js"
import { higherRole, SqliteBoolean, WorkspaceRole } from "./common.js"

const UserWorkspaceRequest = Schema.Struct({ userId: Schema.String, workspaceId: Schema.String })

const WorkspaceRef = Schema.Struct({ id: Schema.String, name: Schema.String })
export type WorkspaceRef = typeof WorkspaceRef.Type

const RoleRow = Schema.Struct({ role: WorkspaceRole })

const SummaryRow = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  role: WorkspaceRole,
  createdAt: Schema.Number,
  isActive: SqliteBoolean
})

/** The name of the workspace created for a user who has none (contract 4.2). */
export const defaultWorkspaceName = "My Workspace"

export const makeWorkspaceQueries = (sql: SqlClient.SqlClient, ids: IdsShape) => {
  /**
   * The id of the user's earliest remaining membership: non-deleted workspaces, by membership
   * `created_at`, ties broken by workspace id. Both the repair in `getOrCreateDefaultWorkspace` and
   * the re-homing in `removeWorkspace` use this one query, so they always agree on the target.
   */
  const earliestMembershipId = (user: string | Statement.Fragment) =>
    sql`SELECT m.workspace_id FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.user_id = ${user} AND w.deleted = 0
        ORDER BY m.created_at, m.workspace_id LIMIT 1`

  const findLive = SqlSchema.findOne({
    Request: Schema.String,
    Result: WorkspaceRef,
    execute: (workspaceId) => sql`SELECT id, name FROM workspaces WHERE id = ${workspaceId} AND deleted = 0`
  })

  /** The role in a non-deleted workspace. */
  const roleOf = SqlSchema.findOne({
    Request: UserWorkspaceRequest,
    Result: RoleRow,
    execute: ({ userId, workspaceId }) =>
      sql`SELECT m.role AS role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
          WHERE m.workspace_id = ${workspaceId} AND m.user_id = ${userId} AND w.deleted = 0`
  })

  const membershipRoleRow = SqlSchema.findOne({
    Request: UserWorkspaceRequest,
    Result: RoleRow,
    execute: ({ userId, workspaceId }) =>
      sql`SELECT role FROM workspace_members WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`
  })

  /** The user's active workspace if it is still valid: not deleted, and the user still a member. */
  const validActive = SqlSchema.findOne({
    Request: Schema.String,
    Result: WorkspaceRef,
    execute: (userId) =>
      sql`SELECT w.id AS id, w.name AS name FROM users u
          JOIN workspaces w ON w.id = u.active_workspace_id AND w.deleted = 0
          JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = u.id
          WHERE u.id = ${userId}`
  })

  const earliestMembership = SqlSchema.findOne({
    Request: Schema.String,
    Result: WorkspaceRef,
    execute: (userId) => sql`SELECT id, name FROM workspaces WHERE id = (${earliestMembershipId(userId)})`
  })

  const listForUser = SqlSchema.findAll({
    Request: Schema.String,
    Result: SummaryRow,
    execute: (userId) =>
      sql`SELECT w.id AS id, w.name AS name, w.description AS description, m.role AS role,
                 w.created_at AS createdAt,
                 CASE WHEN u.active_workspace_id = w.id THEN 1 ELSE 0 END AS isActive
          FROM workspace_members m
          JOIN workspaces w ON w.id = m.workspace_id AND w.deleted = 0
          JOIN users u ON u.id = m.user_id
          WHERE m.user_id = ${userId}
          ORDER BY w.created_at, w.id`
  })

  /** The role of any membership, whether or not the workspace is deleted (the admin stores' view). */
  const membershipRole = (workspaceId: string, userId: string) =>
    Effect.map(membershipRoleRow({ userId, workspaceId }), Option.map((row) => row.role))

  /** Inserts a workspace and its owner's membership; returns the new id. */
  const insert = Effect.fnUntraced(function*(
    input: { readonly ownerUserId: string; readonly name: string; readonly description: string | null },
    now: number
  ) {
    const workspaceId = yield* ids.uuid
    yield* sql`INSERT INTO workspaces ${
      sql.insert({
        id: workspaceId,
        name: input.name,
        description: input.description,
        owner_user_id: input.ownerUserId,
        deleted: 0,
        deleted_at: null,
        created_at: now,
        updated_at: now
      })
    }`
    yield* sql`INSERT INTO workspace_members ${
      sql.insert({ workspace_id: workspaceId, user_id: input.ownerUserId, role: "owner", created_at: now })
    }`
    return workspaceId
  })

  /**
   * Adds the user to the workspace with `role`, or keeps an existing membership with the stronger
   * of its role and `role` (an invite never demotes). Returns the role the user now has.
   */
  const grantMembership = Effect.fnUntraced(function*(
    workspaceId: string,
    userId: string,
    role: WorkspaceRole,
    now: number
  ) {
    const current = yield* membershipRole(workspaceId, userId)
    const granted = Option.isSome(current) ? higherRole(current.value, role) : role
    yield* sql`INSERT INTO workspace_members ${
      sql.insert({ workspace_id: workspaceId, user_id: userId, role: granted, created_at: now })
    } ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role`
    return granted
  })

  const update = (workspaceId: string, name: string, description: string | null | undefined, now: number) =>
    description === undefined
      ? sql`UPDATE workspaces SET name = ${name}, updated_at = ${now} WHERE id = ${workspaceId}`
      : sql`UPDATE workspaces SET name = ${name}, description = ${description}, updated_at = ${now}
            WHERE id = ${workspaceId}`

  /**
   * Marks a live workspace deleted at `deletedAt` (the host's time for an admin, `now` for an
   * owner); an already deleted one keeps its first time.
   */
  const softDelete = (workspaceId: string, deletedAt: number, now: number) =>
    sql`UPDATE workspaces SET deleted = 1, deleted_at = ${deletedAt}, updated_at = ${now}
        WHERE id = ${workspaceId} AND deleted = 0`

  /**
   * Points every user whose active workspace is `workspaceId` at their earliest remaining
   * membership, or at nothing. Run after the workspace is marked deleted, so it is never chosen.
   */
  const rehomeActiveUsers = (workspaceId: string, now: number) =>
    sql`UPDATE users SET active_workspace_id = (${earliestMembershipId(sql.literal("users.id"))}),
               updated_at = ${now}
        WHERE active_workspace_id = ${workspaceId}`

  return {
    findLive,
    roleOf: (input: { readonly userId: string; readonly workspaceId: string }) =>
      Effect.map(roleOf(input), Option.map((row) => row.role)),
    membershipRole,
    validActive,
    earliestMembership,
    listForUser,
    insert,
    grantMembership,
    update,
    softDelete,
    rehomeActiveUsers
  }
}

export type WorkspaceQueries = ReturnType<typeof makeWorkspaceQueries>
