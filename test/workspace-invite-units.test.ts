/**
 * Invite times in the host's units (or3-admin-contract 7-8): the host's invite route passes
 * `expiresAt = floor(Date.now() / 1000) + ttlSeconds` and reads every invite time in epoch
 * seconds; an invite is expired once `expiresAt <= floor(now / 1000)`. The table keeps
 * milliseconds, like every other table.
 */
import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { Limits } from "../src/schema/limits.js"
import { InvalidInput } from "../src/schema/errors.js"
import { AuthWorkspaceStore } from "../src/services/AuthWorkspaceStore.js"
import { dumpTables, user, userWithWorkspace, wire, withStore } from "./support/workspaceStore.js"

/** 2026-02-14T12:00:00.750Z: a real epoch time, with milliseconds that rounding must drop. */
const NOW_MS = Date.parse("2026-02-14T12:00:00.750Z")
const NOW_S = Math.floor(NOW_MS / 1000)
const WEEK_S = 7 * 24 * 3600

/** `createInvite` as the host's route calls it, for `guest@example.com`. */
const hostCreatesInvite = (workspaceId: string, invitedByUserId: string, tokenHash: string, ttlSeconds: number) =>
  Effect.gen(function*() {
    const store = yield* AuthWorkspaceStore
    const expiresAt = Math.floor((yield* TestClock.currentTimeMillis) / 1000) + ttlSeconds
    const { inviteId } = yield* store.createInvite({
      workspaceId,
      email: "guest@example.com",
      role: "editor",
      invitedByUserId,
      expiresAt,
      tokenHash
    })
    return { inviteId, expiresAt }
  })

describe("invite times in the host's units", () => {
  it.effect("an invite created as the host route does validates, is accepted, and lists in seconds", () =>
    withStore(Effect.gen(function*() {
      yield* TestClock.setTime(NOW_MS)
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const { expiresAt, inviteId } = yield* hostCreatesInvite(workspaceId, owner, "tok", WEEK_S)
      assert.strictEqual(expiresAt, NOW_S + WEEK_S)

      const [pending] = yield* store.listInvites({ workspaceId })
      assert.deepStrictEqual([pending.id, pending.status, pending.expiresAt, pending.createdAt, pending.updatedAt], [
        inviteId,
        "pending",
        expiresAt,
        NOW_S,
        NOW_S
      ])
      const identity = { provider: "basic-auth", providerUserId: "guest", email: "guest@example.com", workspaceId }
      assert.deepStrictEqual(yield* store.validateInvite({ workspaceId, email: "guest@example.com", tokenHash: "tok" }), {
        ok: true,
        role: "editor"
      })
      yield* TestClock.adjust("1 hour")
      const accepted = yield* store.acceptInviteAndProvisionUser({ ...identity, tokenHash: "tok" })
      assert.deepStrictEqual([accepted.ok, accepted.ok && accepted.role, accepted.ok && accepted.createdUser], [true, "editor", true])
      const [used] = yield* store.listInvites({ workspaceId })
      assert.deepStrictEqual([used.status, used.acceptedAt, used.updatedAt, used.expiresAt], [
        "accepted",
        NOW_S + 3600,
        NOW_S + 3600,
        expiresAt
      ])

      const { inviteId: revoked } = yield* hostCreatesInvite(workspaceId, owner, "tok-2", WEEK_S)
      yield* store.revokeInvite({ workspaceId, inviteId: revoked, revokedByUserId: owner })
      const [again] = yield* store.listInvites({ workspaceId, status: "revoked" })
      assert.deepStrictEqual([again.revokedAt, again.updatedAt], [NOW_S + 3600, NOW_S + 3600])
    })))

  it.effect("expired once expiresAt <= floor(now / 1000): validate, accept, consume and list say so", () =>
    withStore(Effect.gen(function*() {
      yield* TestClock.setTime(NOW_MS)
      const store = yield* AuthWorkspaceStore
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const guest = yield* user("guest")
      const { expiresAt } = yield* hostCreatesInvite(workspaceId, owner, "tok", 60)
      const validate = store.validateInvite({ workspaceId, email: "guest@example.com", tokenHash: "tok" })

      // The last millisecond of the second before expiresAt: still valid.
      yield* TestClock.setTime(expiresAt * 1000 - 1)
      assert.deepStrictEqual(yield* validate, { ok: true, role: "editor" })
      yield* TestClock.setTime(expiresAt * 1000)
      const before = yield* dumpTables
      const expired = { ok: false, reason: "expired" } as const
      assert.deepStrictEqual(yield* validate, expired)
      assert.deepStrictEqual(
        yield* store.acceptInviteAndProvisionUser({
          provider: "basic-auth",
          providerUserId: "newcomer",
          email: "guest@example.com",
          workspaceId,
          tokenHash: "tok"
        }),
        expired
      )
      assert.deepStrictEqual(
        yield* store.consumeInvite({ workspaceId, email: "guest@example.com", tokenHash: "tok", acceptedUserId: guest }),
        expired
      )
      assert.deepStrictEqual(yield* dumpTables, before)
      const [listed] = yield* store.listInvites({ workspaceId })
      assert.deepStrictEqual([listed.status, listed.updatedAt, listed.expiresAt], ["expired", expiresAt, expiresAt])
    })))

  it.effect("an expiry in milliseconds is refused, not read as a date thousands of years away", () =>
    withStore(Effect.gen(function*() {
      yield* TestClock.setTime(NOW_MS)
      const store = yield* AuthWorkspaceStore
      const { userId, workspaceId } = yield* userWithWorkspace("owner")
      const before = yield* dumpTables
      const input = { workspaceId, email: "a@example.com", role: "editor", invitedByUserId: userId, tokenHash: "h" }
      const refused = yield* Effect.flip(store.createInvite(wire({ ...input, expiresAt: NOW_MS + 3_600_000 })))
      assert.instanceOf(refused, InvalidInput)
      assert.strictEqual(refused.field, "input.expiresAt")
      assert.include(refused.reason, `epoch seconds (at most ${Limits.maxEpochSeconds})`)
      assert.deepStrictEqual(yield* dumpTables, before)
      yield* store.createInvite({ ...input, role: "editor", expiresAt: Limits.maxEpochSeconds })
    })))

  it.effect("the table keeps milliseconds, so rows written before this release read in seconds", () =>
    withStore(Effect.gen(function*() {
      yield* TestClock.setTime(NOW_MS)
      const store = yield* AuthWorkspaceStore
      const sql = yield* SqlClient.SqlClient
      const { userId: owner, workspaceId } = yield* userWithWorkspace("owner")
      const { inviteId } = yield* hostCreatesInvite(workspaceId, owner, "tok", 60)
      const [stored] = yield* sql<{ expires_at: number; created_at: number }>`
        SELECT expires_at, created_at FROM workspace_invites WHERE id = ${inviteId}`
      assert.deepStrictEqual(stored, { expires_at: (NOW_S + 60) * 1000, created_at: NOW_MS })

      // A row as an earlier release stored it: every time in milliseconds, as its callers gave them.
      yield* sql`INSERT INTO workspace_invites (id, workspace_id, email, role, status, invited_by_user_id,
                   token_hash, expires_at, created_at, updated_at)
                 VALUES ('legacy', ${workspaceId}, 'old@example.com', 'viewer', 'pending', ${owner},
                   'old', ${NOW_MS + 90_500}, ${NOW_MS - 1000}, ${NOW_MS - 1000})`
      const legacy = (yield* store.listInvites({ workspaceId })).find((invite) => invite.id === "legacy")!
      assert.deepStrictEqual([legacy.status, legacy.expiresAt, legacy.createdAt], ["pending", NOW_S + 91, NOW_S - 1])
      assert.deepStrictEqual(yield* store.validateInvite({ workspaceId, email: "old@example.com", tokenHash: "old" }), {
        ok: true,
        role: "viewer"
      })
    })))
})
