/**
 * The host's table payload check over real HTTP (contract 2, 5.1 step 4): what a `put` carries
 * on to the adapter (snake_case keys, a snake_case twin winning over its camelCase spelling,
 * unknown keys kept, the table's fields first), and the message when a field is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pull, push, type SignedIn, signIn, startTestHost, type TestHost, threadOp } from "./support.js"

let host: TestHost
let alice: SignedIn

beforeAll(async () => {
  host = await startTestHost()
  alice = await signIn(host)
})
afterAll(() => host.close())

const pulledPayload = async (pk: string) => {
  const pulled = await pull(alice.client, alice.workspaceId, 0, 1000)
  return pulled.body.changes.find((change: { pk: string }) => change.pk === pk)?.payload as Record<string, unknown>
}

describe("the table payload check", () => {
  it("forwards the normalized payload: known fields first, in the table's order, then the rest as sent", async () => {
    const op = threadOp("normalized")
    const { id, title, status, deleted, pinned, created_at, updated_at, clock } = op.payload as Record<string, unknown>
    op.payload = {
      zExtra: { nested: { keptAs: "sent" } },
      clock,
      pinned,
      createdAt: 1,
      created_at,
      updatedAt: updated_at,
      deleted,
      status,
      title,
      id,
      first_extra: 1
    }
    const response = await push(alice.client, alice.workspaceId, [op])
    expect(response.body.results[0]).toMatchObject({ success: true, applied: true })
    const payload = await pulledPayload("normalized")
    expect(Object.keys(payload)).toEqual([
      "id",
      "title",
      "status",
      "pinned",
      "deleted",
      "created_at",
      "updated_at",
      "clock",
      "z_extra",
      "first_extra"
    ])
    // The snake_case key sent beside its camelCase twin wins; nested keys are left alone.
    expect(payload.created_at).toBe(created_at)
    expect(payload.z_extra).toEqual({ nested: { keptAs: "sent" } })
  })

  it("names the field that is wrong or missing, and forwards nothing of that op", async () => {
    const wrongType = threadOp("wrong-type")
    ;(wrongType.payload as Record<string, unknown>).pinned = "yes"
    const missing = threadOp("missing-field")
    delete (missing.payload as Record<string, unknown>).created_at
    const notObject = { ...threadOp("not-object"), payload: ["a"] }
    const response = await push(alice.client, alice.workspaceId, [wrongType, missing, notObject])
    expect(response.body.results.map((r: { errorCode: string }) => r.errorCode)).toEqual([
      "VALIDATION_ERROR",
      "VALIDATION_ERROR",
      "VALIDATION_ERROR"
    ])
    expect(response.body.results[0].error).toMatch(/^Invalid payload for threads: pinned: Expected boolean, actual "yes"/)
    expect(response.body.results[1].error).toMatch(/^Invalid payload for threads: created_at: is missing/)
    expect(response.body.results[2].error).toBe("Invalid payload for threads: expected an object")
    expect(response.body.serverVersion).toBe(0)
  })
})

/**
 * Bad values are refused per op, whatever their depth or size: the other ops of the batch are
 * stored, and the message names the field without echoing the value.
 */
describe("hostile payload values", () => {
  /** JSON text of a push whose second op's payload has `field` set to the raw JSON `valueJson`. */
  const pushWithRawField = (good: ReturnType<typeof threadOp>, bad: ReturnType<typeof threadOp>, field: string, valueJson: string) => {
    const marker = "@@raw@@"
    const payload = { ...(bad.payload as Record<string, unknown>), [field]: marker }
    return JSON.stringify({ scope: { workspaceId: alice.workspaceId }, ops: [good, { ...bad, payload }] })
      .replace(JSON.stringify(marker), valueJson)
  }

  for (const depth of [2_500, 3_000, 4_000]) {
    it(`a field nested ${depth} levels deep is one per-op VALIDATION_ERROR; the batch's other ops are stored`, async () => {
      const good = threadOp(`deep-good-${depth}`)
      const text = pushWithRawField(good, threadOp(`deep-bad-${depth}`), "pinned", `${"[".repeat(depth)}${"]".repeat(depth)}`)
      const response = await alice.client.post("/api/sync/push", text)
      expect(response.status).toBe(200)
      expect(response.body.results[0]).toMatchObject({ opId: good.stamp.opId, success: true, applied: true })
      expect(response.body.results[1]).toMatchObject({ success: false, errorCode: "VALIDATION_ERROR" })
      expect(response.body.results[1].error).toMatch(/^Invalid payload for threads: pinned: /)
      expect(response.body.results[1].error.length).toBeLessThan(400)
      expect(await pulledPayload(`deep-good-${depth}`)).toMatchObject({ id: `deep-good-${depth}` })
      expect(host.logged).toEqual([])
    })
  }

  it("a wrong value of 250 KB is named, not echoed", async () => {
    const huge = threadOp("huge-string")
    ;(huge.payload as Record<string, unknown>).pinned = "y".repeat(250_000)
    const wide = threadOp("huge-object")
    ;(wide.payload as Record<string, unknown>).status = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [`key${i}`, i])
    )
    const response = await push(alice.client, alice.workspaceId, [huge, wide])
    expect(response.status).toBe(200)
    const [first, second] = response.body.results
    expect(first).toMatchObject({ success: false, errorCode: "VALIDATION_ERROR" })
    expect(first.error).toMatch(/^Invalid payload for threads: pinned: Expected boolean, actual "yyy/)
    expect(second).toMatchObject({ success: false, errorCode: "VALIDATION_ERROR" })
    expect(second.error).toMatch(/^Invalid payload for threads: status: Expected string, actual /)
    for (const result of [first, second]) expect(result.error.length).toBeLessThan(400)
  })

  it("a top-level __proto__ key is an ordinary key: it cannot stand in for required fields", async () => {
    const op = threadOp("proto-only")
    const fields = JSON.stringify(op.payload)
    // Every required field only inside `__proto__` (JSON.parse makes it an own key).
    const text = JSON.stringify({ scope: { workspaceId: alice.workspaceId }, ops: [{ ...op, payload: "@@p@@" }] })
      .replace("\"@@p@@\"", `{"id":"proto-only","__proto__":${fields}}`)
    const response = await alice.client.post("/api/sync/push", text)
    expect(response.status).toBe(200)
    expect(response.body.results[0]).toMatchObject({ success: false, errorCode: "VALIDATION_ERROR" })
    expect(response.body.results[0].error).toMatch(/^Invalid payload for threads: status: is missing/)
  })

  it("a __proto__ key (also spelled __Proto__) beside the required fields is forwarded as an own data key", async () => {
    for (const [pk, key] of [["proto-kept", "__proto__"], ["proto-camel", "__Proto__"]]) {
      const op = threadOp(pk)
      const text = JSON.stringify({ scope: { workspaceId: alice.workspaceId }, ops: [{ ...op, payload: "@@p@@" }] })
        .replace("\"@@p@@\"", JSON.stringify(op.payload).replace(/}$/, `,"${key}":{"polluted":true,"status":"hidden"}}`))
      const response = await alice.client.post("/api/sync/push", text)
      expect(response.body.results[0]).toMatchObject({ success: true, applied: true })
      const payload = await pulledPayload(pk)
      expect(payload.status).toBe("ready")
      expect(Object.getOwnPropertyDescriptor(payload, "__proto__")?.value).toEqual({ polluted: true, status: "hidden" })
      expect(Object.getPrototypeOf(payload)).toBe(Object.prototype)
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    }
  })
})
