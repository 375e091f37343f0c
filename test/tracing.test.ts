/**
 * Tracing and logs: a push is a tree of named spans (SyncGateway.push > sql.transaction >
 * sql.execute), every public service method is a span named `Service.method`, and the CLI's logs
 * carry the `package=or3-sqlite` annotation. Spans are collected by an in-memory `Tracer.make`.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, HashMap, Layer, Logger, type Option, Tracer } from "effect"
import * as Path from "node:path"
import { runCli } from "../src/cli/Cli.js"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { SyncMaintenance } from "../src/services/SyncMaintenance.js"
import { tempDir } from "./helpers/foundation.js"
import { put } from "./support/ops.js"
import { wire } from "./support/workspaceStore.js"

interface Recorded {
  readonly name: string
  readonly spanId: string
  readonly parentId: string | undefined
  readonly attributes: Map<string, unknown>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/** A tracer that records every span it starts, with its parent and how it ended. */
const makeCollector = () => {
  const spans: Array<Recorded> = []
  let next = 0
  const tracer = Tracer.make({
    span: (name, parent: Option.Option<Tracer.AnySpan>, context, links, startTime, kind) => {
      const recorded: Recorded = {
        name,
        spanId: `span-${++next}`,
        parentId: parent._tag === "Some" ? parent.value.spanId : undefined,
        attributes: new Map(),
        exit: undefined
      }
      spans.push(recorded)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: recorded.spanId,
        traceId: parent._tag === "Some" ? parent.value.traceId : `trace-${next}`,
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes: recorded.attributes,
        links: [...links],
        sampled: true,
        kind,
        end: (_endTime, exit) => void (recorded.exit = exit),
        attribute: (key, value) => void recorded.attributes.set(key, value),
        event: () => undefined,
        addLinks: () => undefined
      }
      return span
    },
    context: (f) => f()
  })
  return { spans, layer: Layer.setTracer(tracer), names: () => spans.map((span) => span.name) }
}

describe("spans", () => {
  it.effect("a push is SyncGateway.push > sql.transaction > sql.execute, each ended", () =>
    Effect.gen(function*() {
      const collector = makeCollector()
      const result = yield* Effect.flatMap(SyncGateway, (gateway) =>
        gateway.push({ scope: { workspaceId: "ws-t" }, ops: [put({ pk: "a" }), put({ pk: "b" })] })
      ).pipe(Effect.provide(collector.layer))
      assert.strictEqual(result.serverVersion, 2)

      const push = collector.spans.filter((span) => span.name === "SyncGateway.push")
      assert.strictEqual(push.length, 1)
      const transactions = collector.spans.filter((span) => span.name === "sql.transaction")
      assert.strictEqual(transactions.length, 1)
      assert.strictEqual(transactions[0].parentId, push[0].spanId)
      const statements = collector.spans.filter((span) => span.parentId === transactions[0].spanId)
      assert.isAbove(statements.length, 2)
      assert.isTrue(statements.every((span) => span.name === "sql.execute"))
      assert.isTrue(statements.every((span) => span.attributes.get("db.system.name") === "sqlite"))
      const texts = statements.map((span) => String(span.attributes.get("db.query.text") ?? span.attributes.get("db.statement")))
      assert.isTrue(texts.some((text) => text.includes("INSERT OR FAIL INTO change_log")), texts.join("\n"))
      assert.isTrue(collector.spans.every((span) => span.exit !== undefined && Exit.isSuccess(span.exit)))
    }).pipe(Effect.provide(SyncGateway.Test)))

  it.effect("every public SyncGateway method is a span named SyncGateway.<method>", () =>
    Effect.gen(function*() {
      const collector = makeCollector()
      const gateway = yield* SyncGateway
      const scope = { workspaceId: "ws-t" }
      const user = { userId: "u" }
      const calls: Record<string, Effect.Effect<unknown, unknown>> = {
        push: gateway.push({ scope, ops: [put({ pk: "a" })] }, user),
        pull: gateway.pull({ scope, cursor: 0, limit: 10 }, user),
        snapshot: gateway.snapshot({ scope, pageSize: 10 }, user),
        updateCursor: gateway.updateCursor({ scope, deviceId: "d", version: 1 }, user),
        gcChangeLog: gateway.gcChangeLog({ scope, retentionSeconds: 3600 }),
        gcTombstones: gateway.gcTombstones({ scope, retentionSeconds: 3600 }),
        listWorkspaceIds: gateway.listWorkspaceIds
      }
      for (const [method, call] of Object.entries(calls)) {
        yield* Effect.exit(call).pipe(Effect.provide(collector.layer))
        assert.include(collector.names(), `SyncGateway.${method}`)
      }
    }).pipe(Effect.provide(SyncGateway.Test)))

  it.effect("every public AuthWorkspaceStore method is a span named AuthWorkspaceStore.<method>", () =>
    Effect.gen(function*() {
      const collector = makeCollector()
      const store = yield* AuthWorkspaceStore
      const { userId } = yield* store.getOrCreateUser({ provider: "p", providerUserId: "1", email: "a@b.c" })
      const ws = { userId, workspaceId: "missing" }
      const calls: Record<string, Effect.Effect<unknown, unknown>> = {
        getUser: store.getUser({ provider: "p", providerUserId: "1" }),
        getOrCreateUser: store.getOrCreateUser({ provider: "p", providerUserId: "2" }),
        getOrCreateDefaultWorkspace: store.getOrCreateDefaultWorkspace(userId),
        getWorkspaceRole: store.getWorkspaceRole(ws),
        listUserWorkspaces: store.listUserWorkspaces(userId),
        createWorkspace: store.createWorkspace({ userId, name: "W" }),
        updateWorkspace: store.updateWorkspace({ ...ws, name: "X" }),
        removeWorkspace: store.removeWorkspace(ws),
        setActiveWorkspace: store.setActiveWorkspace(ws),
        createInvite: store.createInvite(wire({ workspaceId: "missing" })),
        listInvites: store.listInvites({ workspaceId: "missing" }),
        revokeInvite: store.revokeInvite(wire({ workspaceId: "missing", inviteId: "i" })),
        validateInvite: store.validateInvite(wire({ workspaceId: "missing" })),
        consumeInvite: store.consumeInvite(wire({ workspaceId: "missing" })),
        acceptInviteAndProvisionUser: store.acceptInviteAndProvisionUser(wire({ workspaceId: "missing" }))
      }
      for (const [method, call] of Object.entries(calls)) {
        yield* Effect.exit(call).pipe(Effect.provide(collector.layer))
        assert.include(collector.names(), `AuthWorkspaceStore.${method}`)
      }
    }).pipe(Effect.provide(AuthWorkspaceStore.Test)))

  it.effect("every public SyncMaintenance method is a span named SyncMaintenance.<method>", () =>
    Effect.gen(function*() {
      const collector = makeCollector()
      const maintenance = yield* SyncMaintenance
      const calls: Record<string, Effect.Effect<unknown, unknown>> = {
        get: maintenance.get,
        begin: maintenance.begin,
        complete: maintenance.complete(new Date(0).toISOString()),
        fail: maintenance.fail("boom")
      }
      for (const [method, call] of Object.entries(calls)) {
        yield* Effect.exit(call).pipe(Effect.provide(collector.layer))
        assert.include(collector.names(), `SyncMaintenance.${method}`)
      }
    }).pipe(Effect.provide(SyncMaintenance.Test)))
})

describe("logs", () => {
  it.scopedLive("the CLI logs through Effect's logger with package=or3-sqlite", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const db = Path.join(dir, "logs.sqlite")
      // A migrated file, opened and closed here first.
      yield* Effect.scoped(Layer.build(layerSqlFile(db)))
      const entries: Array<{ message: string; annotations: Record<string, unknown> }> = []
      const capture = Logger.make(({ annotations, message }) => {
        entries.push({
          message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
          annotations: Object.fromEntries(HashMap.toEntries(annotations))
        })
      })
      const lines: Array<string> = []
      const code = yield* runCli(
        ["node", "or3-sqlite", "--log-level", "info", "status", "--db", db, "--json"],
        (line) => Effect.sync(() => void lines.push(line))
      ).pipe(Effect.provide(Layer.merge(NodeContext.layer, Logger.add(capture))))
      assert.strictEqual(code, 0, lines.join("\n"))
      const start = entries.find((entry) => entry.message.startsWith("SQLite "))
      assert.isDefined(start, JSON.stringify(entries))
      assert.strictEqual(start!.annotations.package, "or3-sqlite")
      assert.isTrue(entries.every((entry) => entry.annotations.package === "or3-sqlite"))
    }), 120_000)
})
