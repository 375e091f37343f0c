/**
 * Workspace memberships as the admin stores change them: a role per (workspace, user), and the
 * workspace's primary owner (`workspaces.owner_user_id`), which must always name a member who is
 * an owner. Every function runs inside the caller's write transaction.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { WorkspaceMemberInfo } from "../../schema/admin.js"
import { LastWorkspaceOwner, NotFound } from "../../schema/errors.js"
import type { WorkspaceRole } from "../../schema/store.js"
import { nowMillis } from "../Ids.js"
import { WorkspaceRole as RoleSchema } from "../workspace/common.js"
import type { WorkspaceQueries } from "../workspace/workspaces.js"

const MemberRequest = Schema.Struct({ workspaceId: Schema.String, userId: Schema.String })

const MemberRow = Schema.Struct({ userId: Schema.String, email: Schema.NullOr(Schema.String), role: RoleSchema })

/**
 * The membership queries of the admin stores; a member's role is read the way the workspace
 * queries read it for any membership (`membershipRole`), deleted workspace or not.
 */
export const makeMemberQueries = (sql: SqlClient.SqlClient, workspaces: Pick<WorkspaceQueries, "membershipRole">) => {
  const roleOf = workspaces.membershipRole

  /** The earliest owner other than `userId`: who becomes primary owner when `userId` stops being one. */
  const otherOwner = SqlSchema.findOne({
    Request: MemberRequest,
    Result: Schema.Struct({ userId: Schema.String }),
    execute: ({ userId, workspaceId }) =>
      sql`SELECT user_id AS userId FROM workspace_members
          WHERE workspace_id = ${workspaceId} AND role = 'owner' AND user_id <> ${userId}
          ORDER BY created_at, user_id LIMIT 1`
  })

  const list = SqlSchema.findAll({
    Request: Schema.String,
    Result: MemberRow,
    execute: (workspaceId) =>
      sql`SELECT m.user_id AS userId, u.email AS email, m.role AS role
          FROM workspace_members m JOIN users u ON u.id = m.user_id
          WHERE m.workspace_id = ${workspaceId}
          ORDER BY m.created_at, m.user_id`
  })

  /**
   * `userId` stops being an owner: refused when no other owner is left; otherwise, if `userId` was
   * the primary owner, the earliest other owner takes that place.
   */
  const releaseOwnership = Effect.fnUntraced(function*(
    workspaceId: string,
    userId: string,
    change: "demote" | "remove",
    now: number
  ) {
    const next = yield* otherOwner({ workspaceId, userId })
    if (Option.isNone(next)) return yield* new LastWorkspaceOwner({ workspaceId, userId, change })
    yield* sql`UPDATE workspaces SET owner_user_id = ${next.value.userId}, updated_at = ${now}
               WHERE id = ${workspaceId} AND owner_user_id = ${userId}`
  })

  /** The current role of a member, or `NotFound` for a user who is not one. */
  const requireRole = (workspaceId: string, userId: string) =>
    Effect.flatMap(roleOf(workspaceId, userId), (role) =>
      Option.isSome(role)
        ? Effect.succeed(role.value)
        : Effect.fail(new NotFound({ entity: "Workspace member", id: userId })))

  /** Sets a member's role; demoting an owner goes through `releaseOwnership`. Same role: no change. */
  const setRole = Effect.fnUntraced(function*(workspaceId: string, userId: string, role: WorkspaceRole) {
    const current = yield* requireRole(workspaceId, userId)
    if (current === role) return
    const now = yield* nowMillis
    if (current === "owner") yield* releaseOwnership(workspaceId, userId, "demote", now)
    yield* sql`UPDATE workspace_members SET role = ${role} WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`
  })

  /** Removes a member (the user row stays); removing an owner goes through `releaseOwnership`. */
  const remove = Effect.fnUntraced(function*(workspaceId: string, userId: string) {
    const current = yield* requireRole(workspaceId, userId)
    if (current === "owner") yield* releaseOwnership(workspaceId, userId, "remove", yield* nowMillis)
    yield* sql`DELETE FROM workspace_members WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`
  })

  const insert = (workspaceId: string, userId: string, role: WorkspaceRole, now: number) =>
    sql`INSERT INTO workspace_members ${sql.insert({ workspace_id: workspaceId, user_id: userId, role, created_at: now })}`

  /** Members oldest first; `email` is absent when the user has none. */
  const listMembers = (workspaceId: string) =>
    Effect.map(list(workspaceId), (rows) =>
      rows.map((row): WorkspaceMemberInfo => ({
        userId: row.userId,
        ...(row.email === null ? {} : { email: row.email }),
        role: row.role
      })))

  return { setRole, remove, insert, listMembers }
}

export type MemberQueries = ReturnType<typeof makeMemberQueries>
