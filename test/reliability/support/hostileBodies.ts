/**
 * Generated hostile requests for the reference host (fast-check, as shipped in `effect`).
 *
 * Each request starts from a valid template for one route (push, pull, snapshot, update-cursor,
 * GC, workspaces, admin) and is then damaged: 0-3 mutations at random places in its JSON (a key
 * removed, a value replaced by something hostile, wrapped, repeated, an unknown key added), and
 * sometimes on the wire (wrong or missing content type, no mutation intent, cut or padded text).
 * Hostile values: wrong types, NaN/Infinity/huge/negative numbers written as raw JSON text, huge
 * strings, deep nesting, SQL in strings, lone surrogates and NULs, prototype keys, non-UUID ids.
 * Some requests stay valid on purpose: the host must also keep working for those.
 */
import { FastCheck as fc } from "effect"
import { syncedTableNames } from "../../../src/schema/tables.js"
import { validOp } from "./httpHost.js"

/** JSON text written as it is: numbers JSON.stringify cannot write, nesting too deep to build. */
export class RawJson {
  constructor(readonly text: string) {}
}
const raw = (text: string) => new RawJson(text)

export const toJsonText = (value: unknown): string => {
  if (value instanceof RawJson) return value.text
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

const sqlish = [
  "'; DROP TABLE change_log; --",
  "\" OR 1=1 --",
  "threads; DELETE FROM users",
  "s_threads",
  "sqlite_master",
  "x') UNION SELECT * FROM workspace_invites --",
  "threads\u0000",
  "\u0000",
  "\ud800",
  "\udfff\ud800",
  "../../etc/passwd",
  "__proto__",
  "constructor",
  "%s%n%x",
  "\u202e\u0000\uffff"
]

/**
 * Deepest nesting the generator puts anywhere: past the ~2,500 levels where effect's value
 * formatter overflows the stack (with seed 1165353325 the old host answered one push with 500),
 * and past JSON.stringify's ~4,500. The "deep nesting" tests in fuzz.test.ts add 20,000 levels.
 */
export const MAX_GENERATED_DEPTH = 6_000

const deepArray = (depth: number) => raw("[".repeat(depth) + "1" + "]".repeat(depth))
const deepObject = (depth: number) => raw("{\"a\":".repeat(depth) + "1" + "}".repeat(depth))

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, -0.5, 2 ** 53 + 2, "", " ", "null", [], {}) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      raw("1e309"), raw("-1e309"), raw("-0"), raw("1e-400"), raw("123456789012345678901234567890"),
      raw("0.0000001"), raw("4294967296"), raw("-9007199254740993"), raw("1E2"), raw("0e0")
    )
  },
  { weight: 3, arbitrary: fc.constantFrom(...sqlish) },
  { weight: 2, arbitrary: fc.fullUnicodeString({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(1025), "y".repeat(5000), "z".repeat(70_000)) },
  { weight: 2, arbitrary: fc.integer({ min: 2, max: MAX_GENERATED_DEPTH }).chain((n) => fc.constantFrom(deepArray(n), deepObject(n))) },
  { weight: 1, arbitrary: fc.constantFrom(raw("{\"__proto__\":{\"polluted\":true},\"constructor\":{\"prototype\":{\"x\":1}}}")) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom("not-a-uuid", "00000000-0000-0000-0000-000000000000", "G0000000-0000-4000-8000-000000000000") }
)

/** Where and how to damage a template. */
const mutation = fc.record({ at: fc.nat(), kind: fc.nat(4), value: hostileValue })

type Slot = { readonly parent: Record<string, unknown> | Array<unknown>; readonly key: string | number }

const slots = (value: unknown, out: Array<Slot> = []): Array<Slot> => {
  if (value instanceof RawJson || value === null || typeof value !== "object") return out
  for (const [key, inner] of Object.entries(value)) {
    out.push({ parent: value as Record<string, unknown>, key: Array.isArray(value) ? Number(key) : key })
    slots(inner, out)
  }
  return out
}

/** A deep copy that keeps RawJson leaves (structuredClone would turn them into plain objects). */
const clone = (value: unknown): unknown =>
  value instanceof RawJson || value === null || typeof value !== "object"
    ? value
    : Array.isArray(value)
    ? value.map(clone)
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]))

const applyMutations = (template: unknown, mutations: ReadonlyArray<typeof mutation extends fc.Arbitrary<infer M> ? M : never>) => {
  let root = clone(template)
  for (const m of mutations) {
    const all = slots(root)
    if (all.length === 0 || m.at % (all.length + 1) === all.length) {
      root = m.kind === 0 ? [root] : m.value
      continue
    }
    const { parent, key } = all[m.at % all.length]
    const record = parent as Record<string | number, unknown>
    if (m.kind === 0) {
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete record[key]
    } else if (m.kind === 1) {
      record[key] = m.value
    } else if (m.kind === 2) {
      record[key] = [record[key]]
    } else if (m.kind === 3 && Array.isArray(parent)) {
      parent.push(...Array.from({ length: 1 + (m.at % 150) }, () => clone(parent[key as number])))
    } else {
      record[`unknown_${m.at % 7}`] = m.value
    }
  }
  return root
}

/** alice syncs in A; wendy works her own workspaces; mallory and anonymous callers belong nowhere. */
export type Caller = "alice" | "wendy" | "mallory" | "anonymous"

export interface FuzzRequest {
  readonly caller: Caller
  readonly method: string
  readonly path: string
  /** A JSON tree (with RawJson leaves), or undefined for no body. */
  readonly body: unknown
  readonly wire: {
    readonly contentType: string | null
    readonly intent: boolean
    readonly cut: number | null
    readonly garbage: string | null
  }
}

export interface Targets {
  /** alice's workspace, where her sync requests go. */
  readonly A: string
  /** bob's workspace: nobody in the fuzz may touch it. */
  readonly B: string
  /** wendy's workspace at the start; the workspace routes are hers to fuzz. */
  readonly W: string
}

const tables = [...syncedTableNames, "unknown_table", "Threads", "threads ", "s_threads", "threads; DROP TABLE change_log"]

const opArb = fc.record({
  table: fc.constantFrom(...tables),
  pk: fc.oneof(fc.constantFrom("p1", "p2", "p3", "p4"), fc.constantFrom(...sqlish), fc.fullUnicodeString({ minLength: 1, maxLength: 12 })),
  opId: fc.oneof({ weight: 5, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.constantFrom("not-a-uuid", "", "x".repeat(300)) }),
  clock: fc.nat(30),
  remove: fc.boolean(),
  device: fc.constantFrom("fuzz-1", "fuzz-2")
}).map((o) => validOp(o.table, o.pk, { opId: o.opId, clock: o.clock, delete: o.remove && o.clock % 3 === 0, deviceId: o.device }))

const scope = (t: Targets) =>
  fc.oneof({ weight: 8, arbitrary: fc.constant(t.A) }, { weight: 1, arbitrary: fc.constantFrom(t.B, "ws-unknown", " ", "") }).map((
    workspaceId
  ) => ({ workspaceId }))

const workspaceId = (t: Targets) => fc.constantFrom(t.W, t.W, t.A, t.B, "ws-unknown", "..%2F..", "%00")

/** Valid-to-start templates: [caller, method, path, body]. */
const templates = (t: Targets): fc.Arbitrary<[Caller, string, string, unknown]> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.record({ scope: scope(t), ops: fc.array(opArb, { minLength: 1, maxLength: 5 }) }).map((b) => ["alice", "POST", "/api/sync/push", b] as [Caller, string, string, unknown]) },
    { weight: 4, arbitrary: fc.record({ scope: scope(t), cursor: fc.nat(50), limit: fc.integer({ min: 1, max: 1000 }), tables: fc.option(fc.subarray([...tables]), { nil: undefined }) }).map((b) => ["alice", "POST", "/api/sync/pull", b] as [Caller, string, string, unknown]) },
    { weight: 3, arbitrary: fc.record({ scope: scope(t), pageSize: fc.integer({ min: 1, max: 1000 }), pageToken: fc.option(fc.constantFrom("AQ", "AQEBAQ", "x".repeat(5000), "////"), { nil: undefined }) }).map((b) => ["alice", "POST", "/api/sync/snapshot", b] as [Caller, string, string, unknown]) },
    { weight: 3, arbitrary: fc.record({ scope: scope(t), deviceId: fc.constantFrom("dev-1", "dev-2", " "), version: fc.nat(40) }).map((b) => ["alice", "POST", "/api/sync/update-cursor", b] as [Caller, string, string, unknown]) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom("gc-tombstones", "gc-change-log"), fc.record({ scope: scope(t), retentionSeconds: fc.constantFrom(3600, 3599, 31_536_001, 86_400) })).map(([path, b]) => ["alice", "POST", `/api/sync/${path}`, b] as [Caller, string, string, unknown]) },
    { weight: 2, arbitrary: fc.record({ name: fc.fullUnicodeString({ maxLength: 120 }), description: fc.option(fc.string({ maxLength: 1100 }), { nil: undefined }) }).map((b) => ["wendy", "POST", "/api/workspaces", b] as [Caller, string, string, unknown]) },
    { weight: 2, arbitrary: fc.tuple(workspaceId(t), fc.record({ name: fc.string({ maxLength: 120 }) })).map(([id, b]) => ["wendy", "PATCH", `/api/workspaces/${encodeURIComponent(id)}`, b] as [Caller, string, string, unknown]) },
    { weight: 1, arbitrary: workspaceId(t).map((id) => ["wendy", "DELETE", `/api/workspaces/${encodeURIComponent(id)}`, undefined] as [Caller, string, string, unknown]) },
    { weight: 1, arbitrary: workspaceId(t).map((id) => ["wendy", "POST", "/api/workspaces/active", { id }] as [Caller, string, string, unknown]) },
    // Only `sync` has an adapter: for the other kinds the contract's answer is 501 (4.4).
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("sync"), actionId: fc.constantFrom("sync.gc-change-log", "sync.gc-tombstones", "nope"), payload: fc.option(fc.object({ maxDepth: 1 }), { nil: undefined }) }).map((b) => ["wendy", "POST", "/api/admin/system/provider-action", b] as [Caller, string, string, unknown]) },
    { weight: 1, arbitrary: fc.constantFrom("/api/workspaces", "/api/auth/session", "/api/admin/system/provider-status").map((path) => ["wendy", "GET", path, undefined] as [Caller, string, string, unknown]) }
  )

/** Damage to the caller: mostly the template's own, sometimes a stranger or nobody. */
const callerArb = fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom<Caller>("mallory", "anonymous") })

export const requestArb = (t: Targets): fc.Arbitrary<FuzzRequest> =>
  fc.record({
    template: templates(t),
    mutations: fc.array(mutation, { maxLength: 3 }),
    caller: callerArb,
    wire: fc.record({
      contentType: fc.oneof(
        { weight: 12, arbitrary: fc.constant("application/json") },
        { weight: 1, arbitrary: fc.constantFrom(null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "APPLICATION/JSON") }
      ),
      intent: fc.oneof({ weight: 15, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      cut: fc.oneof({ weight: 15, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
      garbage: fc.oneof({ weight: 15, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom("}", "\u0000", "garbage", ",", "\ufeff") })
    })
  }).map(({ caller, mutations, template: [owner, method, path, body], wire }) => ({
    caller: caller ?? owner,
    method,
    path,
    body: body === undefined ? undefined : applyMutations(body, mutations),
    wire
  }))

/** The request as sent: the body text after wire damage, and the headers. */
export const encodeRequest = (request: FuzzRequest, token: string | undefined) => {
  let text = request.body === undefined ? undefined : toJsonText(request.body)
  if (text !== undefined && request.wire.cut !== null) text = text.slice(0, request.wire.cut % (text.length + 1))
  if (text !== undefined && request.wire.garbage !== null) {
    text = request.wire.garbage === "\ufeff" ? `\ufeff${text}` : `${text}${request.wire.garbage}`
  }
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (request.method !== "GET" && request.wire.intent) headers["x-or3-cloud-intent"] = "mutation"
  if (text !== undefined && request.wire.contentType !== null) headers["content-type"] = request.wire.contentType
  return { text, headers }
}
