import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { dumpTables, failOn, user, userWithWorkspace, withStore } from "./support/workspaceStore.js"

/**
 * acceptInviteAndProvisionUser writes up to five times. A trigger makes one write fail at a time;
 * the call must die (a storage failure is a defect) and leave every table exactly as it was, and
 * once the trigger is gone the same invite must still work.
 */
const newUserSteps = [
  ["INSERT", "users"],
  ["INSERT", "auth_accounts"],
  ["INSERT", "workspace_members"],
  ["UPDATE", "users"],
  ["UPDATE", "workspace_invites"]
] as const

/** For a user who is already a member, the membership write is an update. */
const memberSteps = [
  ["UPDATE", "workspace_members"],
  ["UPDATE", "users"],
  ["UPDATE", "workspace_invites"]
] as const

const setup = Effect.gen(function*() {
  const store = yield* AuthWorkspaceStore
  const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
  yield* store.createInvite({
    workspaceId,
    email: "guest@example.com",
    role: "editor",
    invitedByUserId: owner,
    expiresAt: 10_000,
    tokenHash: "tok"
  })
  return { owner, workspaceId }
})

const accept = (workspaceId: string) =>
  Effect.flatMap(AuthWorkspaceStore, (store) =>
    store.acceptInviteAndProvisionUser({
      provider: "test",
      providerUserId: "guest",
      email: "guest@example.com",
      displayName: "Guest",
      workspaceId,
      tokenHash: "tok"
    }))

const assertAllOrNothing = (workspaceId: string, event: "INSERT" | "UPDATE", table: (typeof newUserSteps)[number][1]) =>
  Effect.gen(function*() {
    const before = yield* dumpTables
    const removeTrigger = yield* failOn(event, table)
    const exit = yield* Effect.exit(accept(workspaceId))
    assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), `${event} ${table} should die`)
    assert.deepStrictEqual(yield* dumpTables, before, `${event} ${table} left a partial write`)
    yield* removeTrigger
    const retry = yield* accept(workspaceId)
    assert.isTrue(retry.ok, `${event} ${table}: the invite still works afterwards`)
  })

describe("acceptInviteAndProvisionUser is atomic", () => {
  for (const [event, table] of newUserSteps) {
    it.effect(`new user: a failing ${event} on ${table} leaves nothing behind`, () =>
      withStore(Effect.gen(function*() {
        const { workspaceId } = yield* setup
        yield* assertAllOrNothing(workspaceId, event, table)
      })))
  }

  for (const [event, table] of memberSteps) {
    it.effect(`existing member: a failing ${event} on ${table} leaves nothing behind`, () =>
      withStore(Effect.gen(function*() {
        const store = yield* AuthWorkspaceStore
        const { owner, workspaceId } = yield* setup
        const guest = yield* user("guest")
        // The guest is active in a workspace of their own, and a viewer of the invited one, so
        // accepting the editor invite updates both the membership and the active pointer.
        yield* store.createWorkspace({ userId: guest, name: "Guest's" })
        yield* store.createInvite({
          workspaceId,
          email: "guest@example.com",
          role: "viewer",
          invitedByUserId: owner,
          expiresAt: 10_000,
          tokenHash: "first"
        })
        yield* store.consumeInvite({ workspaceId, email: "guest@example.com", tokenHash: "first", acceptedUserId: guest })
        assert.strictEqual(yield* store.getWorkspaceRole({ userId: guest, workspaceId }), "viewer")
        yield* assertAllOrNothing(workspaceId, event, table)
        assert.strictEqual(yield* store.getWorkspaceRole({ userId: guest, workspaceId }), "editor")
      })))
  }
})
