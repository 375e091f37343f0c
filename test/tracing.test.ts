/**
 * Tracing and logs: a push is a tree of named spans (SyncGateway.push > sql.transaction >
 * sql.execute), every public service method is a span named `Service.method`, and the CLI's logs
 * carry the `package=or3-sqlite` annotation. Spans are collected by an in-memory `Tracer.make`.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, HashMap, Layer, Logger, type Option, Tracer } from "effect"
import * as Path from "node:path"
import { runCli } from "../src/cli/Cli.js"
import { providerLayer } from "../src/facades/createSqliteProvider.js"
import { makeSqliteProvider } from "../src/facades/SqliteProvider.js"
import { layerSqlFile } from "../src/layers/Migrations.js"
import * as Tracing from "../src/layers/Tracing.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { SyncMaintenance } from "../src/services/SyncMaintenance.js"
import { makeLogCapture, tempDir } from "./helpers/foundation.js"
import { put } from "./support/ops.js"
import { captureStdout } from "./support/quiet.js"
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

describe("exporting spans", () => {
  it.live("a tracer layer provided to the provider's layer sees migrations, facade calls, methods and statements", () =>
    Effect.gen(function*() {
      const collector = makeCollector()
      const provider = yield* Effect.promise(() =>
        makeSqliteProvider(providerLayer({ path: ":memory:" }).pipe(Layer.provide(collector.layer)))
      )
      yield* Effect.promise(() => provider.authWorkspaceStore.getOrCreateUser({ provider: "p", providerUserId: "1" }))
      yield* Effect.promise(() => provider.dispose())
      const method = collector.spans.find((span) => span.name === "AuthWorkspaceStore.getOrCreateUser")
      assert.isDefined(method, collector.names().join(", "))
      assert.isTrue(collector.spans.some((span) => span.name === "sql.execute" && span.parentId !== undefined))
      assert.isTrue(collector.spans.some((span) => span.name === "Migrations.run"), collector.names().join(", "))
    }))

  it.effect("OR3_SQLITE_OTEL unset: no layer, nothing loaded", () =>
    Effect.gen(function*() {
      const loaded: Array<string> = []
      const collector = makeCollector()
      yield* Effect.flatMap(SyncGateway, (g) => g.listWorkspaceIds).pipe(
        Effect.provide(Tracing.layerFromEnv(async (name) => void loaded.push(name))),
        Effect.provide(collector.layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
      )
      assert.deepStrictEqual(loaded, [])
    }).pipe(Effect.provide(SyncGateway.Test)))

  it.effect("OR3_SQLITE_OTEL=true builds NodeSdk.layer with a batch processor and the OTLP exporter", () =>
    Effect.gen(function*() {
      const collector = makeCollector()
      const loaded: Array<string> = []
      let configuration: any
      // Stand-ins with the shapes of the three OTel modules the layer loads.
      const modules: Record<string, unknown> = {
        "@effect/opentelemetry": {
          NodeSdk: { layer: (evaluate: () => unknown) => ((configuration = evaluate()), collector.layer) }
        },
        "@opentelemetry/sdk-trace-base": { BatchSpanProcessor: class { constructor(readonly exporter: unknown) {} } },
        "@opentelemetry/exporter-trace-otlp-http": { OTLPTraceExporter: class { readonly kind = "otlp-http" } }
      }
      const load = async (name: string) => (loaded.push(name), modules[name])
      yield* Effect.flatMap(SyncGateway, (g) => g.listWorkspaceIds).pipe(
        Effect.provide(Tracing.layerFromEnv(load)),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OR3_SQLITE_OTEL", "true"], ["OTEL_SERVICE_NAME", "or3-test"]])))
      )
      assert.deepStrictEqual(loaded.sort(), ["@effect/opentelemetry", "@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/sdk-trace-base"])
      assert.deepStrictEqual(configuration.resource, { serviceName: "or3-test" })
      assert.strictEqual(configuration.spanProcessor.exporter.kind, "otlp-http")
      assert.include(collector.names(), "SyncGateway.listWorkspaceIds")
    }).pipe(Effect.provide(SyncGateway.Test)))

  it.effect("OR3_SQLITE_OTEL=true without the packages logs what to install and runs untraced", () =>
    Effect.gen(function*() {
      const logs = makeLogCapture()
      const ids = yield* Effect.flatMap(SyncGateway, (g) => g.listWorkspaceIds).pipe(
        Effect.provide(Tracing.layerFromEnv()),
        Effect.provide(logs.layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OR3_SQLITE_OTEL", "true"]])))
      )
      assert.deepStrictEqual(ids, [])
      const [error] = logs.at("ERROR")
      assert.match(error.message, /OR3_SQLITE_OTEL=true but the OpenTelemetry packages could not be loaded/)
      assert.include(error.message, "npm install @effect/opentelemetry")
    }).pipe(Effect.provide(SyncGateway.Test)))

  it.effect("a malformed OR3_SQLITE_OTEL stops the start with ConfigInvalid naming it; flags take any case", () =>
    Effect.gen(function*() {
      const loaded: Array<string> = []
      const load = async (name: string) => void loaded.push(name)
      const withOtel = (value: string) =>
        Layer.build(Tracing.layerFromEnv(load)).pipe(
          Effect.scoped,
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OR3_SQLITE_OTEL", value]])))
        )
      const error = yield* Effect.flip(withOtel("maybe"))
      assert.strictEqual(error._tag, "ConfigInvalid")
      assert.strictEqual(error.variable, "OR3_SQLITE_OTEL")
      assert.include(error.message, '"maybe"')
      yield* withOtel("FALSE")
      assert.deepStrictEqual(loaded, [])
    }))
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
      const stdout = yield* captureStdout
      const code = yield* runCli(
        ["node", "or3-sqlite", "--log-level", "info", "migrate", "--db", db, "--json"],
        (line) => Effect.sync(() => void lines.push(line))
      ).pipe(Effect.provide(Layer.merge(NodeContext.layer, Logger.add(capture))))
      assert.strictEqual(code, 0, lines.join("\n"))
      assert.strictEqual(JSON.parse(stdout.text).database, db)
      const start = entries.find((entry) => entry.message.startsWith("SQLite "))
      assert.isDefined(start, JSON.stringify(entries))
      assert.strictEqual(start!.annotations.package, "or3-sqlite")
      assert.isTrue(entries.every((entry) => entry.annotations.package === "or3-sqlite"))
    }), 120_000)
})
