/**
 * Hostile input through the reference host over HTTP: one server on 127.0.0.1:0, keep-alive
 * fetch, fast-check requests (support/hostileBodies.ts) sent 50 at a time, then hand-written
 * cases for what a generator reaches badly (bodies over the limit, lying Content-Length, raw
 * bytes on the socket, prototype keys). Every answer must be a 2xx (with per-op errors for push)
 * or a 4xx with a message; never a 5xx. Afterwards the file is sound, the sync invariants hold,
 * and no row changed outside what the requests were allowed to change (alice's workspace A,
 * wendy's own workspaces, the maintenance row).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import type { H3Event } from "h3"
import { SESSION_CONTEXT_PREFIX } from "../../src/facades/Session.js"
import type { PendingOp } from "../../src/or3/types.js"
import { Limits } from "../../src/schema/limits.js"
import { encodeRequest, type FuzzRequest, requestArb, type Targets } from "./support/hostileBodies.js"
import { startTestHost, type TestHost, validOp } from "./support/httpHost.js"
import { syncProblems, withRaw } from "./support/invariants.js"
import { replayHint, SEED, scaled, timeoutFor } from "./support/knobs.js"

let dir: string
let host: TestHost
let targets: Targets
let baseline: Record<string, Array<unknown>>
const statuses = new Map<number, number>()
const figures = { bodies: 0, handWritten: 0, ms: 0 }

interface Answer {
  readonly status: number
  readonly text: string
}

const send = async (request: FuzzRequest): Promise<Answer> => {
  const token = request.caller === "anonymous" ? undefined : host.users[request.caller].token
  const { headers, text } = encodeRequest(request, token)
  const response = await fetch(new URL(request.path, host.url), { method: request.method, headers, body: text })
  return { status: response.status, text: await response.text() }
}

/** Why an answer breaks the rules, or undefined when it keeps them. */
const verdict = (path: string, answer: Answer): string | undefined => {
  statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
  if (answer.status >= 500) return `server error ${answer.status}: ${answer.text.slice(0, 300)}`
  let body: any
  try {
    body = answer.text === "" ? undefined : JSON.parse(answer.text)
  } catch {
    return `${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`
  }
  if (answer.status >= 400) {
    const message = body?.message ?? body?.statusMessage
    return typeof message === "string" && message.trim() !== "" ? undefined : `${answer.status} without a message`
  }
  if (answer.status < 200 || answer.status >= 300) return `unexpected status ${answer.status}`
  if (path === "/api/sync/push") {
    if (!Array.isArray(body?.results) || typeof body.serverVersion !== "number") return "push answer without results"
    for (const r of body.results) {
      if (typeof r?.opId !== "string" || typeof r.success !== "boolean") return `bad result ${JSON.stringify(r)}`
      if (!r.success && (typeof r.errorCode !== "string" || typeof r.error !== "string")) return `failure without code ${JSON.stringify(r)}`
    }
  }
  return undefined
}

/**
 * Rows the fuzz may change: workspace A's sync data (alice syncs there), the users, workspaces and
 * memberships of wendy and mallory (the workspace routes are theirs to use), and the maintenance
 * row. Everything else, bob's workspace B above all, must stay exactly as it was.
 */
const untouchable = (dump: Record<string, Array<unknown>>) => {
  const freeUsers = new Set([host.users.wendy.userId, host.users.mallory.userId])
  const freeWorkspaces = new Set(
    (dump.workspaces as Array<{ id: string; owner_user_id: string }>).filter((w) => freeUsers.has(w.owner_user_id)).map((w) => w.id)
  )
  freeWorkspaces.add(targets.A)
  const free = (table: string, row: Record<string, unknown>) =>
    table === "sync_maintenance" ||
    (table === "users" && freeUsers.has(row.id as string)) ||
    (table === "workspaces" && freeWorkspaces.has(row.id as string)) ||
    (typeof row.workspace_id === "string" && freeWorkspaces.has(row.workspace_id))
  return Object.fromEntries(
    Object.entries(dump).map(([table, rows]) => [table, (rows as Array<Record<string, unknown>>).filter((row) => !free(table, row))])
  )
}

beforeAll(async () => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-fuzz-"))
  host = await startTestHost(dir, ["alice", "bob", "wendy", "mallory"])
  for (const name of ["alice", "bob", "wendy", "mallory"]) await host.signIn(name)
  targets = { A: host.users.alice.workspaceId, B: host.users.bob.workspaceId, W: host.users.wendy.workspaceId }
  const seed = await host.users.alice.client.post("/api/sync/push", {
    scope: { workspaceId: targets.A },
    ops: ["t1", "t2", "t3"].map((pk, i) => validOp("threads", pk, { opId: `f0220000-0000-4000-8000-00000000000${i}`, clock: 1 }))
  })
  assert.strictEqual(seed.status, 200)
  await host.users.bob.client.post("/api/sync/push", {
    scope: { workspaceId: targets.B },
    ops: [validOp("threads", "b1", { opId: "f0220000-0000-4000-8000-0000000000b1", clock: 1 })]
  })
  baseline = host.dump()
}, 120_000)

afterAll(async () => {
  const top = [...statuses].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}:${n}`).join(" ")
  console.log(`[reliability] fuzz ${JSON.stringify(figures)} statuses ${top} seed=${SEED}`)
  await host?.close()
  Fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * A client that drops its connection mid-body (the raw-socket cases) makes the host log "aborted";
 * nobody receives that answer, so it is not counted as a server fault here.
 */
const serverFaults = () => host.hostErrors.filter((line) => !/Error: aborted/.test(line))

const checkDatabase = () => {
  assert.deepStrictEqual(serverFaults(), [], "the host logged unexpected failures")
  assert.deepStrictEqual(withRaw(host.dbPath, (db) => syncProblems(db), { readonly: true }), [], replayHint)
  assert.deepStrictEqual(untouchable(host.dump()), untouchable(baseline), "a row changed that no request could change")
}

describe("generated hostile requests", () => {
  const perRun = 50
  const runs = Math.ceil(scaled(10_000) / perRun)

  it(`${runs * perRun} generated requests: no 5xx, 4xx with a message, the database intact`, async () => {
    const started = Date.now()
    // fc.check, not fc.assert: a failure is reported by the requests that broke the rule, not
    // by a dump of all fifty generated values.
    const details = await fc.check(
      fc.asyncProperty(fc.array(requestArb(targets), { minLength: perRun, maxLength: perRun }), async (requests) => {
        const answers = await Promise.all(requests.map(send))
        figures.bodies += requests.length
        const failures = answers.flatMap((answer, i) => {
          const why = verdict(requests[i].path, answer)
          if (why === undefined) return []
          const { text } = encodeRequest(requests[i], "<token>")
          return [`${requests[i].caller} ${requests[i].method} ${requests[i].path} ${JSON.stringify(requests[i].wire)}: ${why}\n  body: ${text?.slice(0, 500)}`]
        })
        if (failures.length > 0) throw new Error(failures.slice(0, 5).join("\n"))
      }),
      { numRuns: runs, seed: SEED, endOnFailure: true }
    )
    if (details.failed) {
      const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.error)
      assert.fail(`${message.slice(0, 6000)}\n(fast-check seed ${details.seed}, path ${details.counterexamplePath}; ${replayHint})`)
    }
    figures.ms = Date.now() - started
    assert.isAtLeast(figures.bodies, scaled(10_000))
    checkDatabase()
  }, timeoutFor(900_000))
})

/** Sends raw bytes on a fresh socket and returns the status line's code (0 when none came back). */
const rawRequest = (bytes: string) =>
  new Promise<number>((resolve) => {
    const socket = Net.connect(Number(new URL(host.url).port), "127.0.0.1")
    let reply = ""
    socket.on("data", (chunk) => (reply += chunk.toString("latin1")))
    socket.on("error", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)))
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)))
    socket.setTimeout(10_000, () => socket.destroy())
    socket.end(bytes, "latin1")
  })

describe("hand-written hostile requests", () => {
  const alice = () => host.users.alice
  const scope = () => ({ workspaceId: targets.A })
  const opId = (n: number) => `f0220000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`
  const expectStatus = async (name: string, expected: number | ReadonlyArray<number>, response: Promise<{ status: number; body: unknown }>) => {
    const { status, body } = await response
    figures.handWritten++
    assert.include([expected].flat(), status, `${name}: ${JSON.stringify(body)?.slice(0, 300)}`)
    return body as any
  }

  it("bodies over the limits, lying lengths and raw bytes", async () => {
    const c = alice().client
    const big = JSON.stringify({ scope: scope(), ops: [validOp("kv", "big", { opId: opId(1), clock: 1, payload: { id: "big", name: "n", value: "x".repeat(Limits.maxPushBytes), created_at: 1, updated_at: 1, clock: 1 } })] })
    await expectStatus("push over 2 MiB", 413, c.post("/api/sync/push", big))
    await expectStatus("pull over 8 KiB", 413, c.post("/api/sync/pull", { scope: scope(), cursor: 0, limit: 1, tables: ["x".repeat(9000)] }))
    const ops = Array.from({ length: 101 }, (_, i) => validOp("threads", `many-${i}`, { opId: opId(100 + i), clock: 1 }))
    await expectStatus("101 ops", 400, c.post("/api/sync/push", { scope: scope(), ops }))
    const oversized = await expectStatus("payload over 256 KiB", 200, c.post("/api/sync/push", { scope: scope(), ops: [validOp("kv", "huge", { opId: opId(2), clock: 1, payload: { id: "huge", name: "n", value: "v".repeat(Limits.maxPayloadBytes), created_at: 1, updated_at: 1, clock: 1 } })] }))
    assert.strictEqual(oversized.results[0].errorCode, "OVERSIZED")
    const auth = `Authorization: Bearer ${alice().token}\r\nx-or3-cloud-intent: mutation\r\nContent-Type: application/json\r\n`
    for (const [name, head, body] of [
      ["declared length over the limit", `Content-Length: ${Limits.maxPushBytes + 1}\r\n`, "{}"],
      ["declared length not a number", "Content-Length: abc\r\n", "{}"],
      ["negative length", "Content-Length: -1\r\n", "{}"],
      ["two lengths", "Content-Length: 2\r\nContent-Length: 3\r\n", "{}"],
      ["chunked past the limit", "Transfer-Encoding: chunked\r\n", `${(Limits.maxPushBytes + 10).toString(16)}\r\n${"a".repeat(Limits.maxPushBytes + 10)}\r\n0\r\n\r\n`],
      ["bad chunk", "Transfer-Encoding: chunked\r\n", "zz\r\nabc\r\n0\r\n\r\n"],
      ["NUL in the path", "Content-Length: 2\r\n", "{}"]
    ] as const) {
      const path = name === "NUL in the path" ? "/api/sync/pu\u0000sh" : "/api/sync/push"
      const status = await rawRequest(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}${head}Connection: close\r\n\r\n${body}`)
      figures.handWritten++
      assert.isTrue(status === 0 || (status >= 400 && status < 500), `${name}: ${status}`)
    }
  }, 120_000)

  it("malformed JSON and wrong shapes on every route", async () => {
    const c = alice().client
    for (const path of ["/api/sync/push", "/api/sync/pull", "/api/sync/snapshot", "/api/sync/update-cursor", "/api/sync/gc-change-log", "/api/workspaces", "/api/workspaces/active"]) {
      for (const text of ["", "null", "[]", "42", "\"x\"", "{", "{\"scope\":", "NaN", "{\"cursor\":Infinity}", "\ufeff{}", "{\"scope\":{\"workspaceId\":1e309}}"]) {
        await expectStatus(`${path} ${JSON.stringify(text)}`, [400, 403, 415], c.post(path, text))
      }
    }
    await expectStatus("GET on a POST route", [404, 405], c.get("/api/sync/push"))
    await expectStatus("cursor 1e309", 400, c.post("/api/sync/pull", `{"scope":{"workspaceId":"${targets.A}"},"cursor":1e309,"limit":10}`))
    await expectStatus("negative limit", 400, c.post("/api/sync/pull", { scope: scope(), cursor: 0, limit: -5 }))
    await expectStatus("fractional pageSize", 400, c.post("/api/sync/snapshot", { scope: scope(), pageSize: 1.5 }))
    await expectStatus("text/plain push", 415, c.post("/api/sync/push", { scope: scope(), ops: [] }, { headers: { "content-type": "text/plain" } }))
  }, 120_000)

  it("SQL, NULs and prototype keys are data, never code", async () => {
    const c = alice().client
    const pks = ["'; DROP TABLE change_log; --", "\" OR 1=1 --", "a\u0000b", "__proto__", "🙂\uE000", "\uFFFD"]
    const ops = [
      validOp("threads; DROP TABLE s_threads", "x", { opId: opId(10), clock: 1 }),
      ...pks.map((pk, i) => validOp("kv", pk, { opId: opId(20 + i), clock: 1 })),
      { ...validOp("projects", "proto", { opId: opId(30), clock: 1 }), payload: JSON.parse("{\"id\":\"proto\",\"name\":\"n\",\"deleted\":false,\"created_at\":1,\"updated_at\":1,\"clock\":1,\"__proto__\":{\"polluted\":true},\"constructor\":{\"prototype\":{\"polluted\":true}}}") }
    ]
    const pushed = await expectStatus("hostile strings", 200, c.post("/api/sync/push", { scope: scope(), ops }))
    assert.strictEqual(pushed.results[0].errorCode, "VALIDATION_ERROR")
    assert.strictEqual(({} as { polluted?: unknown }).polluted, undefined, "Object.prototype was polluted")
    const tables = withRaw(host.dbPath, (db) => db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get(), { readonly: true })
    assert.isAbove(tables as number, 10)
    const storedPk = (version: number) =>
      withRaw(host.dbPath, (db) =>
        db.prepare("SELECT pk FROM change_log WHERE workspace_id = ? AND server_version = ?").pluck().get(scope().workspaceId, version), { readonly: true })
    for (const [i, pk] of pks.entries()) {
      const result = pushed.results[1 + i]
      // Either kept exactly as sent, or refused as an op; never mangled into another key.
      if (result.success) assert.strictEqual(storedPk(result.serverVersion), pk, `pk ${JSON.stringify(pk)} came back as something else`)
    }
    const conflicting = await expectStatus("one opId, two contents", 200, c.post("/api/sync/push", { scope: scope(), ops: [validOp("threads", "c1", { opId: opId(40), clock: 1 }), validOp("threads", "c2", { opId: opId(40), clock: 1 })] }))
    assert.deepStrictEqual(conflicting.results.map((r: { errorCode?: string }) => r.errorCode), ["CONFLICT", "CONFLICT"])
    checkDatabase()
  }, 120_000)

  it("a pk with a lone surrogate round-trips exactly or is refused up front", async () => {
    // SQLite would store it as WTF-8 bytes that read back as U+FFFD: another key than the one pushed.
    const c = alice().client
    const op = validOp("kv", "lone-\ud800", { opId: opId(60), clock: 1 })
    const first = await expectStatus("lone surrogate pk", 200, c.post("/api/sync/push", { scope: scope(), ops: [op] }))
    if (!first.results[0].success) {
      assert.strictEqual(first.results[0].errorCode, "VALIDATION_ERROR")
      return
    }
    const again = await expectStatus("the same op again", 200, c.post("/api/sync/push", { scope: scope(), ops: [op] }))
    const pulled = await expectStatus("pull", 200, c.post("/api/sync/pull", { scope: scope(), cursor: first.results[0].serverVersion - 1, limit: 1 }))
    assert.deepStrictEqual(
      { retry: again.results[0].errorCode ?? "replayed", pk: pulled.changes[0].pk },
      { retry: "replayed", pk: "lone-\ud800" }
    )
  })
})

/**
 * Nesting deeper than the stack. A payload nested deeper than JSON.stringify's recursion limit (about 4,500 levels here; a 2 MiB
 * body can hold a million) once made the whole request fail with 500. Now the provider refuses
 * payloads deeper than `Limits.maxPayloadDepth` per op, and the reference host answers a payload
 * it cannot serialize with a per-op VALIDATION_ERROR.
 */
describe("deep nesting", () => {
  const depth = 20_000
  const deepPayload = (pk: string) =>
    `{"id":"${pk}","name":"n","created_at":1,"updated_at":1,"clock":1,"value":${"[".repeat(depth)}${"]".repeat(depth)}}`
  const shallowOp = (n: number) =>
    validOp("kv", `deep-${n}`, { opId: `f0220000-0000-4000-8000-0000000d${n.toString(16).padStart(4, "0")}`, clock: 1 })

  /** Pushes one op whose `field` holds `deepJson` through the host: one per-op error, not a 500. */
  const viaHost = async (op: object, field: "payload" | "pk", deepJson: string) => {
    const text = JSON.stringify({ scope: { workspaceId: targets.A }, ops: [{ ...op, [field]: "@" }] })
      .replace("\"@\"", deepJson)
    try {
      const response = await host.users.alice.client.post("/api/sync/push", text)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.body.results[0].errorCode, "VALIDATION_ERROR")
    } finally {
      host.hostErrors.length = 0
    }
  }

  /** The same through the provider's adapter, with the session the host would leave on the event. */
  const viaAdapter = async (op: object, field: "payload" | "pk", deepJson: string) => {
    const session = { authenticated: true, user: { id: host.users.alice.userId }, workspace: { id: targets.A } }
    const event = { context: { [`${SESSION_CONTEXT_PREFIX}probe`]: session } } as unknown as H3Event
    const deepOp = { ...op, [field]: JSON.parse(deepJson) } as unknown as PendingOp
    const result = await host.provider.syncGatewayAdapter.push(event, { scope: { workspaceId: targets.A }, ops: [deepOp] })
    assert.strictEqual(result.results[0].errorCode, "VALIDATION_ERROR")
  }

  it("through the host: a too-deep payload is a per-op error, not a 500", () =>
    viaHost(shallowOp(1), "payload", deepPayload("deep-1")))

  it("through the provider's adapter: a too-deep payload is a per-op error, not a 500", () =>
    viaAdapter(shallowOp(2), "payload", deepPayload("deep-2")))

  /**
   * A deep value in a field that fails decoding (here the pk, an object 20,000 levels deep) once
   * overflowed the stack while effect's formatter printed the "actual" value in
   * `describeParseError`, and the whole push answered 500. The description now falls back to the
   * field name alone; that op alone is refused with VALIDATION_ERROR.
   */
  const deepValue = `${"{\"a\":".repeat(depth)}1${"}".repeat(depth)}`

  it("through the host: a deep non-payload field is a per-op error, not a 500", () =>
    viaHost(shallowOp(3), "pk", deepValue))

  it("through the provider's adapter: a deep non-payload field is a per-op error, not a 500", () =>
    viaAdapter(shallowOp(4), "pk", deepValue))

  /**
   * 2,500-4,000 levels: deep enough to overflow effect's formatter, shallow enough for
   * JSON.stringify to succeed (so no earlier check catches it). Once a 500 through the host's
   * payload check; messages now quote a bounded preview of the value.
   */
  for (const [i, depth] of [2_500, 3_000, 4_000].entries()) {
    const deepArray = `${"[".repeat(depth)}${"]".repeat(depth)}`
    it(`through the host and the adapter: a pk nested ${depth} levels is a per-op error`, async () => {
      await viaHost(shallowOp(10 + i), "pk", deepArray)
      await viaAdapter(shallowOp(20 + i), "pk", deepArray)
    })
  }
})

/** The provider's own push path (the adapter, as the OR3 host calls it) against hostile values. */
describe("hostile values through the provider's adapter", () => {
  const pushViaAdapter = (ops: ReadonlyArray<unknown>) => {
    const session = { authenticated: true, user: { id: host.users.alice.userId }, workspace: { id: targets.A } }
    const event = { context: { [`${SESSION_CONTEXT_PREFIX}probe`]: session } } as unknown as H3Event
    return host.provider.syncGatewayAdapter.push(event, { scope: { workspaceId: targets.A }, ops: ops as Array<PendingOp> })
  }
  const opIdOf = (n: number) => `f0220000-0000-4000-8000-0000000e${n.toString(16).padStart(4, "0")}`

  it("a wrong value of 250 KB is named in a short message, and the batch's valid op is stored", async () => {
    const good = validOp("kv", "adapter-good", { opId: opIdOf(1), clock: 1 })
    const bad = validOp("kv", "adapter-bad", { opId: opIdOf(2), clock: 1 })
    const result = await pushViaAdapter([good, { ...bad, stamp: { ...bad.stamp, clock: "9".repeat(250_000) } }])
    assert.strictEqual(result.results[0].success, true)
    assert.strictEqual(result.results[1].errorCode, "VALIDATION_ERROR")
    assert.isBelow(result.results[1].error!.length, 400)
  })

  it("a __proto__ key in a payload is stored and pulled back as an own data key", async () => {
    const op = validOp("kv", "adapter-proto", { opId: opIdOf(3), clock: 1 })
    const payload = JSON.parse(`{"id":"adapter-proto","name":"n","created_at":1,"updated_at":1,"clock":1,"__proto__":{"name":"hidden","polluted":true}}`)
    const result = await pushViaAdapter([{ ...op, payload }])
    assert.strictEqual(result.results[0].success, true, JSON.stringify(result.results[0]))
    const pulled = await host.users.alice.client.post("/api/sync/pull", {
      scope: { workspaceId: targets.A },
      cursor: result.results[0].serverVersion! - 1,
      limit: 1
    })
    const stored = pulled.body.changes[0].payload
    assert.strictEqual(stored.name, "n")
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(stored, "__proto__")?.value, { name: "hidden", polluted: true })
    assert.strictEqual(({} as { polluted?: unknown }).polluted, undefined, "Object.prototype was polluted")
  })
})
