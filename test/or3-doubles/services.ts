import type { H3Error } from "h3"
/**
 * Stand-ins for the three services, for facade tests: they record what the facades pass and fail
 * on cue, so the facades' own rules (session, scope, error mapping, maintenance bookkeeping) are
 * tested apart from the SQL. The services' own suites test the SQL.
 */
import { Effect, Layer, Logger, Ref } from "effect"
import { IncomingMessage, ServerResponse } from "node:http"
import { Socket } from "node:net"
import { H3Event } from "h3"
import * as Migrations from "../../src/layers/Migrations.js"
import {
  CursorRegressed,
  Forbidden,
  NotFound,
  SnapshotExpired,
  Unauthenticated
} from "../../src/schema/errors.js"
import { AdminUserStore } from "../../src/services/AdminUserStore.js"
import { AuthWorkspaceStore, type AuthWorkspaceStoreShape } from "../../src/services/AuthWorkspaceStore.js"
import { Ids } from "../../src/services/Ids.js"
import { SyncGateway, type SyncGatewayShape } from "../../src/services/SyncGateway.js"
import { SyncMaintenance, type SyncMaintenanceState } from "../../src/services/SyncMaintenance.js"
import { WorkspaceAccessStore } from "../../src/services/WorkspaceAccessStore.js"
import { WorkspaceSettingsStore } from "../../src/services/WorkspaceSettingsStore.js"

export const SECRET_SQL = "SQLITE_ERROR: no such column: secret_column in SELECT secret_column FROM users"

export interface Calls {
  readonly gateway: Array<{ method: string; input: unknown; user: unknown }>
  readonly store: Array<{ method: string; input: unknown }>
  readonly logs: Array<string>
}

export const newCalls = (): Calls => ({ gateway: [], store: [], logs: [] })

const cursorOf = (input: unknown) => (input as { cursor?: number }).cursor

/** A gateway that echoes; `cursor: 666` dies with SQL text, `cursor: 409` regresses. */
export const fakeGateway = (calls: Calls) =>
  Layer.succeed(SyncGateway, {
    pull: (input, user) =>
      Effect.suspend(() => {
        calls.gateway.push({ method: "pull", input, user })
        if (cursorOf(input) === 666) return Effect.die(new Error(SECRET_SQL))
        return Effect.succeed({
          changes: [],
          nextCursor: cursorOf(input) ?? 0,
          hasMore: false,
          oldestRetainedVersion: 0,
          requiresSnapshot: false
        })
      }),
    push: (input, user) =>
      Effect.sync(() => {
        calls.gateway.push({ method: "push", input, user })
        return { results: [{ opId: "op-1", success: true, serverVersion: 1, applied: true }], serverVersion: 1 }
      }),
    snapshot: (input, user) =>
      Effect.suspend(() => {
        calls.gateway.push({ method: "snapshot", input, user })
        return Effect.fail(new SnapshotExpired({ snapshotId: "snap-1" }))
      }),
    updateCursor: (input, user) =>
      Effect.suspend((): Effect.Effect<void, Unauthenticated | CursorRegressed> => {
        calls.gateway.push({ method: "updateCursor", input, user })
        if (user === undefined) return Effect.fail(new Unauthenticated({ action: "update a device cursor" }))
        if ((input as { version?: number }).version === 1) {
          return Effect.fail(new CursorRegressed({ deviceId: "d1", current: 5, requested: 1 }))
        }
        return Effect.void
      }),
    gcChangeLog: (input) =>
      Effect.suspend(() => {
        calls.gateway.push({ method: "gcChangeLog", input, user: undefined })
        const workspaceId = (input as { scope: { workspaceId: string } }).scope.workspaceId
        if (workspaceId === "broken") return Effect.die(new Error(SECRET_SQL))
        return Effect.succeed({ workspaceId, expiredCursors: 0, deleted: 3, horizon: 3 })
      }),
    gcTombstones: (input) =>
      Effect.sync(() => {
        calls.gateway.push({ method: "gcTombstones", input, user: undefined })
        const workspaceId = (input as { scope: { workspaceId: string } }).scope.workspaceId
        return { workspaceId, expiredCursors: 0, deleted: 1, horizon: 0 }
      }),
    listWorkspaceIds: Effect.succeed(["w1", "w2"])
  } satisfies SyncGatewayShape)

const unused = (method: string) => () => Effect.die(new Error(`unexpected call to ${method}`))

/** A store that answers the calls the facade tests make and rejects with typed errors on cue. */
export const fakeStore = (calls: Calls) =>
  Layer.succeed(AuthWorkspaceStore, {
    getUser: (input) =>
      Effect.sync(() => {
        calls.store.push({ method: "getUser", input })
        return null
      }),
    getOrCreateUser: (input) =>
      Effect.sync(() => {
        calls.store.push({ method: "getOrCreateUser", input })
        return { userId: "u1" }
      }),
    getOrCreateDefaultWorkspace: (userId) =>
      userId === "ghost"
        ? Effect.fail(new NotFound({ entity: "User", id: "ghost" }))
        : Effect.succeed({ workspaceId: "w1", workspaceName: "My Workspace", created: true }),
    getWorkspaceRole: () => Effect.succeed("owner" as const),
    listUserWorkspaces: () =>
      Effect.succeed([{ id: "w1", name: "My Workspace", description: null, role: "owner" as const, createdAt: 1, isActive: true }]),
    createWorkspace: unused("createWorkspace"),
    updateWorkspace: unused("updateWorkspace"),
    removeWorkspace: (input) =>
      Effect.fail(
        new Forbidden({
          userId: (input as { userId: string }).userId,
          workspaceId: (input as { workspaceId: string }).workspaceId,
          action: "workspace.remove",
          reason: "only the owner can remove a workspace"
        })
      ),
    setActiveWorkspace: unused("setActiveWorkspace"),
    createInvite: unused("createInvite"),
    listInvites: () => Effect.succeed([]),
    revokeInvite: unused("revokeInvite"),
    validateInvite: () => Effect.succeed({ ok: false as const, reason: "not_found" as const }),
    consumeInvite: unused("consumeInvite"),
    acceptInviteAndProvisionUser: () => Effect.die(new Error(SECRET_SQL))
  } satisfies AuthWorkspaceStoreShape)

/** Maintenance state in a Ref; `complete` sets the backlog to 42. */
export const fakeMaintenance = (initial: SyncMaintenanceState = { enabled: true, state: "idle" }) =>
  Layer.effect(
    SyncMaintenance,
    Effect.map(Ref.make<SyncMaintenanceState>(initial), (ref) => ({
      get: Ref.get(ref),
      begin: Ref.update(ref, ({ lastError: _, ...state }) => ({ ...state, state: "running" as const })),
      complete: (lastRun: string) =>
        Ref.update(ref, ({ lastError: _, ...state }) => ({ ...state, state: "idle" as const, lastRun, backlog: 42 })),
      fail: (error: string) => Ref.update(ref, (state) => ({ ...state, state: "failed" as const, lastError: error }))
    }))
  )

/** Collects log lines (message and cause) instead of printing them. */
export const captureLogs = (calls: Calls) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ cause, message }) => {
      calls.logs.push(`${String(message)} ${String(cause)}`)
    })
  )

/** The real admin stores: the facade tests that use the fakes above do not call them. */
const adminStores = Layer.mergeAll(
  WorkspaceAccessStore.DefaultWithoutDependencies,
  WorkspaceSettingsStore.DefaultWithoutDependencies,
  AdminUserStore.DefaultWithoutDependencies
).pipe(Layer.provide(Ids.Test))

/**
 * Fakes over a real, migrated in-memory database (the admin status reads SqliteInfo and the
 * ledger). The log capture sits beneath everything, so the database's start-up lines land in
 * `calls.logs` too instead of the test output.
 */
export const fakeProviderLayer = (calls: Calls, maintenance?: SyncMaintenanceState) =>
  Layer.mergeAll(fakeStore(calls), fakeGateway(calls), fakeMaintenance(maintenance), adminStores).pipe(
    Layer.provideMerge(Migrations.layerSqlMemory),
    Layer.provideMerge(captureLogs(calls))
  )

export const SESSION_KEY = "__or3_session_context_req-1_basic-auth"

/** A real h3 event, with a resolved session cached the way the host caches it (or none). */
export const eventWithSession = (session?: { userId?: string; workspaceId?: string; authenticated?: boolean }) => {
  const req = new IncomingMessage(new Socket())
  const event = new H3Event(req, new ServerResponse(req))
  if (session !== undefined) {
    event.context[SESSION_KEY] = {
      authenticated: session.authenticated ?? true,
      provider: "basic-auth",
      providerUserId: "p1",
      ...(session.userId === undefined ? {} : { user: { id: session.userId, email: "a@example.com", displayName: "A" } }),
      ...(session.workspaceId === undefined ? {} : { workspace: { id: session.workspaceId, name: "W" } }),
      role: "owner",
      expiresAt: "2030-01-01T00:00:00.000Z",
      deploymentAdmin: false,
      authorizationRevision: 1
    }
  }
  return event
}

/** The h3 error a facade promise rejects with. */
export const rejection = async (promise: Promise<unknown>): Promise<H3Error> => {
  try {
    await promise
  } catch (error) {
    return error as H3Error
  }
  throw new Error("expected the promise to reject")
}
