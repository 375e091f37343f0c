/** Builders for push ops and a helper to read a workspace's tables, shared by the sync tests. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

let counter = 0

/** A UUID-shaped op id, unique within the test process. */
export const opId = () => `10000000-0000-4000-8000-${(++counter).toString(16).padStart(12, "0")}`

export interface OpOptions {
  readonly table?: string
  readonly pk: string
  readonly clock?: number
  readonly hlc?: string
  readonly deviceId?: string
  readonly opId?: string
  readonly payload?: Record<string, unknown> | undefined
}

const stamp = (o: OpOptions, clock: number) => ({
  deviceId: o.deviceId ?? "device-a",
  opId: o.opId ?? opId(),
  hlc: o.hlc ?? `0000000000${clock}-0000-${o.deviceId ?? "device-a"}`,
  clock
})

export const put = (o: OpOptions & { readonly payload?: Record<string, unknown> }) => {
  const table = o.table ?? "messages"
  const pkField = table === "file_meta" ? "hash" : "id"
  const clock = o.clock ?? 1
  return {
    id: `row-${counter}`,
    tableName: table,
    operation: "put" as const,
    pk: o.pk,
    payload: o.payload ?? { [pkField]: o.pk, text: `${o.pk}@${clock}`, deleted: false, clock },
    stamp: stamp(o, clock),
    createdAt: 1,
    attempts: 0,
    status: "pending" as const
  }
}

export const del = (o: OpOptions) => {
  const clock = o.clock ?? 1
  return {
    id: `row-${counter}`,
    tableName: o.table ?? "messages",
    operation: "delete" as const,
    pk: o.pk,
    ...(o.payload === undefined ? {} : { payload: o.payload }),
    stamp: stamp(o, clock),
    createdAt: 1,
    attempts: 0,
    status: "pending" as const
  }
}

/** Every row of a table in one workspace, for before/after comparisons. */
export const dumpTable = (table: string, workspaceId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`SELECT * FROM ${sql(table)} WHERE workspace_id = ${workspaceId} ORDER BY 2, 3`)

/** change_log, tombstones, materialized messages and the head of a workspace. */
export const dumpWorkspace = (workspaceId: string) =>
  Effect.all({
    log: dumpTable("change_log", workspaceId),
    tombstones: dumpTable("tombstones", workspaceId),
    messages: dumpTable("s_messages", workspaceId),
    notifications: dumpTable("s_notifications", workspaceId),
    heads: dumpTable("sync_heads", workspaceId)
  })
