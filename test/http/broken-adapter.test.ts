/**
 * The host's response checks: an adapter reply that breaks the contract reaches the client as
 * 502 (and the log), never as data; an adapter that throws a plain Error gives a generic 500.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { SyncGatewayAdapter } from "../../src/or3/types.js"
import { pull, push, signIn, startTestHost, type TestHost, threadOp } from "./support.js"

let host: TestHost | undefined
afterEach(async () => {
  await host?.close()
  host = undefined
})

/** A host whose adapter's replies pass through `tamper` (the real adapter runs first). */
const startWith = async (tamper: Partial<SyncGatewayAdapter>) => {
  host = await startTestHost((provider) => ({
    ...provider,
    syncGatewayAdapter: { ...provider.syncGatewayAdapter, ...tamper }
  }))
  return { host, owner: await signIn(host) }
}

const stamp = (opId: string) => ({ deviceId: "d", opId, hlc: "h", clock: 1 })
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`

describe("push replies", () => {
  const cases: Array<[string, (ops: Array<{ stamp: { opId: string } }>) => unknown]> = [
    ["a missing result", () => ({ results: [], serverVersion: 1 })],
    ["a duplicate result", (ops) => ({
      results: [ops[0], ops[0]].map((op) => ({ opId: op.stamp.opId, success: true, serverVersion: 1 })),
      serverVersion: 1
    })],
    ["a result above the response version", (ops) => ({
      results: ops.map((op) => ({ opId: op.stamp.opId, success: true, serverVersion: 9 })),
      serverVersion: 1
    })],
    ["a result for an op it was not sent", () => ({
      results: [{ opId: "someone-else", success: true, serverVersion: 1 }],
      serverVersion: 1
    })],
    ["a malformed body", () => ({ results: "ok" })]
  ]
  for (const [name, reply] of cases) {
    it(`answers 502 for ${name}`, async () => {
      const { host, owner } = await startWith({ push: async (_event, batch) => reply(batch.ops) as never })
      const response = await push(owner.client, owner.workspaceId, [threadOp("p")])
      expect(response.status).toBe(502)
      expect(response.body.statusMessage).toBe("Invalid push response")
      expect(host.logged.some((line) => line.includes("invalid push response"))).toBe(true)
    })
  }
})

describe("pull replies", () => {
  const change = (serverVersion: number, opId = uuid(serverVersion)) => ({
    serverVersion,
    tableName: "threads",
    pk: `t${serverVersion}`,
    op: "put",
    payload: {},
    stamp: stamp(opId)
  })
  const cases: Array<[string, unknown, string]> = [
    ["changes out of order", { changes: [change(7), change(6)], nextCursor: 7, hasMore: false }, "out of order"],
    ["a change past nextCursor", { changes: [change(8)], nextCursor: 7, hasMore: false }, "past nextCursor"],
    ["a change at or below the cursor", { changes: [change(5)], nextCursor: 6, hasMore: false }, "out of order"],
    ["a cursor that goes back", { changes: [], nextCursor: 2, hasMore: false }, "behind the request cursor"],
    ["hasMore without progress", { changes: [], nextCursor: 5, hasMore: true }, "without progress"],
    ["a duplicate opId", {
      changes: [change(6, uuid(1)), change(7, uuid(1))],
      nextCursor: 7,
      hasMore: false
    }, "duplicate opId"],
    ["a stamp without a UUID opId", { changes: [change(6, "op-6")], nextCursor: 6, hasMore: false }, "opId"],
    ["more than 1000 changes", {
      changes: Array.from({ length: 1001 }, (_, i) => change(6 + i)),
      nextCursor: 1006,
      hasMore: false
    }, "changes"]
  ]
  for (const [name, reply, reason] of cases) {
    it(`answers 502 for ${name}`, async () => {
      const { host, owner } = await startWith({ pull: async () => reply as never })
      const response = await pull(owner.client, owner.workspaceId, 5)
      expect(response.status).toBe(502)
      expect(response.body.statusMessage).toBe("Invalid pull response")
      expect(host.logged.join("\n")).toContain(reason)
    })
  }

  it("passes a reply that keeps the rules", async () => {
    const reply = { changes: [change(6), change(8)], nextCursor: 9, hasMore: true, oldestRetainedVersion: 1, requiresSnapshot: false }
    const { owner } = await startWith({ pull: async () => reply as never })
    const response = await pull(owner.client, owner.workspaceId, 5)
    expect(response.status).toBe(200)
    expect(response.body).toEqual(reply)
  })
})

describe("snapshot replies", () => {
  const row = (pk: string, tableName = "threads") => ({
    kind: "row",
    tableName,
    pk,
    payload: {},
    revision: { clock: 1, hlc: "h", opId: "o" }
  })
  const page = (workspaceId: string, items: Array<unknown>) => ({
    workspaceId,
    snapshotId: "s",
    highWatermark: 1,
    items,
    nextPageToken: null
  })
  const cases: Array<[string, (workspaceId: string) => unknown]> = [
    ["another workspace", () => page("someone-else", [])],
    ["more items than pageSize", (ws) => page(ws, [row("a"), row("b"), row("c")])],
    ["items out of order", (ws) => page(ws, [row("b"), row("a")])],
    ["two entries for one record", (ws) => page(ws, [row("a"), { ...row("a"), kind: "tombstone", serverDeletedAt: 1 }])]
  ]
  for (const [name, reply] of cases) {
    it(`answers 502 for ${name}`, async () => {
      const { owner } = await startWith({ snapshot: async (_event, request) => reply(request.scope.workspaceId) as never })
      const response = await owner.client.post("/api/sync/snapshot", { scope: { workspaceId: owner.workspaceId }, pageSize: 2 })
      expect(response.status).toBe(502)
      expect(response.body.statusMessage).toBe("Invalid snapshot response")
    })
  }
})

describe("adapter failures", () => {
  it("turns a plain Error into a generic 500 and logs it", async () => {
    const { host, owner } = await startWith({
      pull: async () => {
        throw new Error("SQLITE_CORRUPT: secret details")
      }
    })
    const response = await pull(owner.client, owner.workspaceId)
    expect(response.status).toBe(500)
    expect(JSON.stringify(response.body)).not.toContain("secret")
    expect(host.logged).toHaveLength(1)
  })
})
