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
