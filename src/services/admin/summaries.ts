/**
 * Workspaces as the admin pages see them: summaries with owner e-mail and member count, the
 * deployment-wide listing (search, deleted ones on request, newest first, paged), and the
 * lifecycle writes (soft delete, restore) that the admin store runs in its transactions.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { WorkspaceSummary } from "../../schema/admin.js"
import { SqliteBoolean } from "../workspace/common.js"
import { containsPattern } from "./users.js"

const SummaryRow = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  deleted: SqliteBoolean,
  deletedAt: Schema.NullOr(Schema.Number),
  ownerUserId: Schema.String,
  ownerEmail: Schema.NullOr(Schema.String),
  memberCount: Schema.Number
})

/** The row as the host reads it: absent fields instead of nulls. */
const toSummary = (row: typeof SummaryRow.Type): WorkspaceSummary => ({
  id: row.id,
  name: row.name,
  ...(row.description === null ? {} : { description: row.description }),
  createdAt: row.createdAt,
  deleted: row.deleted,
  ...(row.deletedAt === null ? {} : { deletedAt: row.deletedAt }),
  ownerUserId: row.ownerUserId,
  ...(row.ownerEmail === null ? {} : { ownerEmail: row.ownerEmail }),
  memberCount: row.memberCount
})

const summaryColumns = `w.id AS id, w.name AS name, w.description AS description, w.created_at AS createdAt,
  w.deleted AS deleted, w.deleted_at AS deletedAt, w.owner_user_id AS ownerUserId, o.email AS ownerEmail,
  (SELECT count(*) FROM workspace_members m WHERE m.workspace_id = w.id) AS memberCount`

/** What `listWorkspaces` filters on, already normalized (search trimmed, blank meaning none). */
export interface WorkspaceFilter {
  readonly search: string
  readonly includeDeleted: boolean
}

export const makeSummaryQueries = (sql: SqlClient.SqlClient) => {
  const columns = sql.literal(summaryColumns)

  const where = (filter: WorkspaceFilter): Statement.Fragment => {
    const clauses: Array<Statement.Fragment> = []
    if (!filter.includeDeleted) clauses.push(sql`w.deleted = 0`)
    if (filter.search !== "") {
      const pattern = containsPattern(filter.search)
      clauses.push(sql`(w.name LIKE ${pattern} ESCAPE '\\' OR w.description LIKE ${pattern} ESCAPE '\\')`)
    }
    return sql.and(clauses)
  }

  const byId = SqlSchema.findOne({
    Request: Schema.String,
    Result: SummaryRow,
    execute: (workspaceId) =>
      sql`SELECT ${columns} FROM workspaces w LEFT JOIN users o ON o.id = w.owner_user_id WHERE w.id = ${workspaceId}`
  })

  /** One workspace, deleted or not; none when no row exists. */
  const get = (workspaceId: string) => Effect.map(byId(workspaceId), Option.map(toSummary))

  /** One page, newest first (ties by id), and the number of workspaces the filter matches. */
  const list = Effect.fnUntraced(function*(filter: WorkspaceFilter, page: number, perPage: number) {
    const rows = yield* sql`
      SELECT ${columns} FROM workspaces w LEFT JOIN users o ON o.id = w.owner_user_id
      WHERE ${where(filter)}
      ORDER BY w.created_at DESC, w.id DESC LIMIT ${perPage} OFFSET ${(page - 1) * perPage}`
    const items = yield* Schema.decodeUnknown(Schema.Array(SummaryRow))(rows)
    const [{ total }] = yield* sql<{ total: number }>`SELECT count(*) AS total FROM workspaces w WHERE ${where(filter)}`
    return { items: items.map(toSummary), total }
  })

  const exists = (workspaceId: string) =>
    Effect.map(sql`SELECT 1 FROM workspaces WHERE id = ${workspaceId}`, (rows) => rows.length > 0)

  const restore = (workspaceId: string, now: number) =>
    sql`UPDATE workspaces SET deleted = 0, deleted_at = NULL, updated_at = ${now}
        WHERE id = ${workspaceId} AND deleted = 1`

  return { get, list, exists, restore }
}

export type SummaryQueries = ReturnType<typeof makeSummaryQueries>
