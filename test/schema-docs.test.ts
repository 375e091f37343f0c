/**
 * docs/schema.md against a migrated database: every table, column and index is described (and
 * nothing else), and every starter query runs, returns what it promises and has the plan shown.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { layerSqlMemory } from "../src/layers/Migrations.js"

const doc = Fs.readFileSync(new URL("../docs/schema.md", import.meta.url), "utf8")

interface Section {
  readonly heading: string
  readonly body: string
}

/** The `###` sections under the `##` heading `title`. */
const sectionsOf = (title: string): ReadonlyArray<Section> => {
  const start = doc.indexOf(`\n## ${title}\n`)
  assert.isAtLeast(start, 0, `docs/schema.md has no "## ${title}"`)
  const rest = doc.slice(start + title.length + 5)
  const part = rest.slice(0, rest.search(/\n## /) === -1 ? undefined : rest.search(/\n## /))
  return part.split(/\n### /).slice(1).map((chunk) => {
    const newline = chunk.indexOf("\n")
    return { heading: chunk.slice(0, newline), body: chunk.slice(newline + 1) }
  })
}

const backticked = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1])
const sorted = (values: Iterable<string>) => [...values].sort()

/** Rendered like the sqlite3 shell's `.eqp` tree. */
const renderPlan = (rows: ReadonlyArray<{ id: number; parent: number; detail: string }>) => {
  const lines = ["QUERY PLAN"]
  const walk = (parent: number, prefix: string) => {
    const children = rows.filter((row) => row.parent === parent)
    children.forEach((row, i) => {
      const last = i === children.length - 1
      lines.push(`${prefix}${last ? "`--" : "|--"}${row.detail}`)
      walk(row.id, prefix + (last ? "   " : "|  "))
    })
  }
  walk(0, "")
  return lines.join("\n")
}

const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const user = (id: string, email: string, active: string) => ({
    id, email, display_name: id, active_workspace_id: active, created_at: 0, updated_at: 0
  })
  yield* sql`INSERT INTO users ${sql.insert([user("user_demo", "demo@example.com", "ws_demo"), user("user_2", "two@example.com", "ws_demo")])}`
  const workspace = (id: string, created_at: number) => ({
    id, name: id, owner_user_id: "user_demo", created_at, updated_at: created_at
  })
  yield* sql`INSERT INTO workspaces ${sql.insert([workspace("ws_demo", 1), workspace("ws_other", 2)])}`
  yield* sql`INSERT INTO workspace_members ${
    sql.insert([
      { workspace_id: "ws_demo", user_id: "user_2", role: "editor", created_at: 20 },
      { workspace_id: "ws_demo", user_id: "user_demo", role: "owner", created_at: 10 },
      { workspace_id: "ws_other", user_id: "user_demo", role: "viewer", created_at: 30 }
    ])
  }`
  const message = (workspace_id: string, pk: string, thread: string, index: number, orderKey: string, deleted = 0) => ({
    workspace_id, pk, deleted,
    data_json: JSON.stringify({ id: pk, thread_id: thread, role: "user", index, order_key: orderKey, data: { text: pk } }),
    clock: 1, hlc: "h", op_id: `op_${pk}`, device_id: "dev_a", server_version: 1, owner_user_id: null,
    created_at: 0, updated_at: 0
  })
  yield* sql`INSERT INTO s_messages ${
    sql.insert([
      message("ws_demo", "m3", "thread_demo", 1, "b"),
      message("ws_demo", "m1", "thread_demo", 0, "z"),
      message("ws_demo", "m2", "thread_demo", 1, "a"),
      message("ws_demo", "m_gone", "thread_demo", 0, "a", 1),
      message("ws_demo", "m_elsewhere", "thread_other", 0, "a"),
      message("ws_other", "m_other_ws", "thread_demo", 0, "a")
    ])
  }`
  const change = (workspace_id: string, server_version: number) => ({
    workspace_id, server_version, table_name: "messages", pk: `m${server_version}`, op: "put", payload_json: "{}",
    clock: 1, hlc: "h", device_id: "dev_a", op_id: `${workspace_id}_${server_version}`, owner_user_id: null,
    prior_version: 0, created_at: server_version * 1000
  })
  yield* sql`INSERT INTO change_log ${sql.insert([change("ws_demo", 1), change("ws_demo", 2), change("ws_demo", 3), change("ws_other", 1)])}`
  yield* sql`INSERT INTO sync_heads ${sql.insert({ workspace_id: "ws_demo", head: 3, horizon: 0 })}`
  yield* sql`INSERT INTO auth_accounts ${sql.insert({ provider: "clerk", provider_user_id: "user_2x", user_id: "user_demo", created_at: 0 })}`
  yield* sql`INSERT INTO admin_users ${
    sql.insert([{ user_id: "user_demo", created_at: 1000, created_by: "admin" }, { user_id: "user_2", created_at: 2000, created_by: null }])
  }`
  yield* sql`INSERT INTO device_cursors ${
    sql.insert([
      { workspace_id: "ws_demo", device_id: "dev_a", user_id: "user_demo", version: 3, updated_at: 0 },
      { workspace_id: "ws_demo", device_id: "dev_b", user_id: "user_2", version: 1, updated_at: 0 }
    ])
  }`
})

/** What each starter query must return on the seed, by its heading; any other must return rows. */
const expected: Record<string, (rows: ReadonlyArray<Record<string, unknown>>) => void> = {
  "A thread's messages, in display order": (rows) => {
    assert.deepStrictEqual(rows.map((r) => r.id), ["m1", "m2", "m3"])
    assert.deepStrictEqual(rows.map((r) => [r.index, r.order_key]), [[0, "z"], [1, "a"], [1, "b"]])
  },
  "A workspace's members and their roles": (rows) =>
    assert.deepStrictEqual(rows.map((r) => [r.user_id, r.role]), [["user_demo", "owner"], ["user_2", "editor"]]),
  "A user's workspaces": (rows) =>
    assert.deepStrictEqual(rows.map((r) => [r.id, r.role, r.active]), [["ws_demo", "owner", 1], ["ws_other", "viewer", 0]]),
  "The newest changes of a workspace": (rows) => {
    assert.deepStrictEqual(rows.map((r) => r.server_version), [3, 2, 1])
    assert.strictEqual(rows[0].created_utc, "1970-01-01 00:00:03.000")
  },
  "How far behind each device of a workspace is": (rows) =>
    assert.deepStrictEqual(rows.map((r) => [r.device_id, r.behind]), [["dev_b", 2], ["dev_a", 0]]),
  "Deployment admins and how they sign in": (rows) =>
    assert.deepStrictEqual(rows.map((r) => [r.user_id, r.provider, r.granted_utc]), [
      ["user_2", null, "1970-01-01 00:00:02"],
      ["user_demo", "clerk", "1970-01-01 00:00:01"]
    ])
}

describe("docs/schema.md", () => {
  it.effect("describes every table, column and index of the migrated database, and nothing else", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const sections = sectionsOf("Tables")
      const tables = yield* sql<{ name: string }>`
        SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
      assert.deepStrictEqual(sorted(sections.flatMap((s) => backticked(s.heading))), tables.map((t) => t.name))

      for (const { name } of tables) {
        const section = sections.find((s) => backticked(s.heading).includes(name))!
        const columns = yield* sql<{ name: string }>`SELECT name FROM pragma_table_info(${name})`
        const documented = [...section.body.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1])
        assert.deepStrictEqual(sorted(documented), sorted(columns.map((c) => c.name)), `columns of ${name}`)
      }

      for (const section of sections) {
        const names = backticked(section.heading)
        const indexes = yield* sql<{ name: string }>`
          SELECT name FROM sqlite_master
          WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' AND tbl_name IN ${sql.in(names)}`
        const documented = [...section.body.matchAll(/^- `(\w+)`(?: UNIQUE)? on \(/gm)].map((m) => m[1])
        assert.deepStrictEqual(sorted(documented), sorted(indexes.map((i) => i.name)), `indexes of ${section.heading}`)
      }
    }).pipe(Effect.provide(layerSqlMemory)))

  const queries = sectionsOf("Starter queries").map(({ heading, body }) => {
    const query = /```sql\n([\s\S]*?)```/.exec(body)
    const plan = /```text\n([\s\S]*?)\n```/.exec(body)
    return { heading, query: query?.[1], plan: plan?.[1] }
  })

  it("has the starter queries the operators were promised", () => {
    assert.deepStrictEqual(queries.map((q) => q.heading), Object.keys(expected))
  })

  for (const { heading, plan, query } of queries) {
    it.effect(`starter query "${heading}" runs, returns what it says, with the plan shown`, () =>
      Effect.gen(function*() {
        assert.isDefined(query, "no ```sql block")
        assert.isDefined(plan, "no ```text block with the plan")
        const sql = yield* SqlClient.SqlClient
        yield* seed
        const rows = yield* sql.unsafe<Record<string, unknown>>(query!)
        assert.isAbove(rows.length, 0)
        expected[heading]?.(rows)
        const planRows = yield* sql.unsafe<{ id: number; parent: number; detail: string }>(`EXPLAIN QUERY PLAN ${query}`)
        assert.strictEqual(renderPlan(planRows), plan)
      }).pipe(Effect.provide(layerSqlMemory)))
  }
})
