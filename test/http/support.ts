/**
 * Helpers for the HTTP tests: a reference host listening on 127.0.0.1:0 over an in-memory
 * provider, any number of users (`Bearer user-<name>` signs in as `test:<name>`), and builders
 * for wire ops.
 */
import { randomUUID } from "node:crypto"
import { getRequestHeader } from "h3"
import { createSqliteProvider } from "../../src/facades/createSqliteProvider.js"
import type { SqliteProvider } from "../../src/facades/SqliteProvider.js"
import { createReferenceHost } from "../../src/host/createReferenceHost.js"
import { type HostClient, makeHostClient } from "../../src/host/HostClient.js"
import { listenReferenceHost } from "../../src/host/listen.js"
import type { SessionCache } from "../../src/host/sessionCache.js"
import type { Authenticate, ReferenceHostProvider } from "../../src/host/types.js"
import type { PendingOp, WorkspaceRole } from "../../src/or3/types.js"

export interface TestHost {
  readonly url: string
  readonly provider: SqliteProvider
  /** A client signed in as `name` (created on first use, with its own default workspace). */
  readonly as: (name: string) => HostClient
  readonly anonymous: HostClient
  /** What the host logged as unexpected failures or invalid adapter replies. */
  readonly logged: Array<string>
  readonly close: () => Promise<void>
}

const testAuthenticate: Authenticate = async (event) => {
  const match = /^Bearer user-(\S+)$/.exec(getRequestHeader(event, "authorization") ?? "")
  return match === null
    ? null
    : { provider: "test", providerUserId: match[1], email: `${match[1]}@example.test`, displayName: match[1] }
}

/**
 * Starts a host; `wrap` may replace facades (a broken adapter, a stripped capability), and
 * `sessionCache` replaces the default one.
 */
export const startTestHost = async (
  wrap: (provider: SqliteProvider) => ReferenceHostProvider = (provider) => provider,
  options: { readonly sessionCache?: SessionCache } = {}
): Promise<TestHost> => {
  const provider = await createSqliteProvider({ path: ":memory:" })
  const logged: Array<string> = []
  const app = createReferenceHost({
    provider: wrap(provider),
    authenticate: testAuthenticate,
    ...options,
    logError: (message) => logged.push(message)
  })
  const host = await listenReferenceHost(app)
  return {
    url: host.url,
    provider,
    as: (name) => makeHostClient(host.url, `user-${name}`),
    anonymous: makeHostClient(host.url),
    logged,
    close: async () => {
      await host.close()
      await provider.dispose()
    }
  }
}

let users = 0
/** A user name no other test uses. */
export const freshUser = (label = "user") => `${label}${++users}`

export interface SignedIn {
  readonly client: HostClient
  readonly userId: string
  readonly workspaceId: string
}

/** Signs `name` in (provisioning the user and default workspace) and returns their ids. */
export const signIn = async (host: TestHost, name = freshUser()): Promise<SignedIn> => {
  const client = host.as(name)
  const response = await client.get("/api/auth/session")
  if (response.status !== 200 || response.body.session === null) throw new Error(`sign-in failed: ${response.status}`)
  return { client, userId: response.body.session.user.id, workspaceId: response.body.session.workspace.id }
}

/** Makes `member` a `role` member of `owner`'s workspace (through the store's invites) and switches them to it. */
export const joinWorkspace = async (host: TestHost, owner: SignedIn, memberName: string, role: WorkspaceRole) => {
  const store = host.provider.authWorkspaceStore
  const member = await signIn(host, memberName)
  const tokenHash = randomUUID()
  const email = `${memberName}@example.test`
  await store.createInvite({
    workspaceId: owner.workspaceId,
    email,
    role,
    invitedByUserId: owner.userId,
    expiresAt: Math.floor(Date.now() / 1000) + 3600, // epoch seconds, as the host passes it
    tokenHash
  })
  const consumed = await store.consumeInvite({ workspaceId: owner.workspaceId, email, tokenHash, acceptedUserId: member.userId })
  if (!consumed.ok) throw new Error(`invite refused: ${consumed.reason}`)
  const switched = await member.client.post("/api/workspaces/active", { id: owner.workspaceId })
  if (switched.status !== 200) throw new Error(`switch failed: ${switched.status}`)
  return { ...member, workspaceId: owner.workspaceId }
}

let clock = 0
/** A valid thread put (or delete), with a fresh opId unless one is given. */
export const threadOp = (
  pk: string,
  options: { title?: string; clock?: number; operation?: "put" | "delete"; opId?: string } = {}
): PendingOp => {
  const revision = options.clock ?? 1
  const now = Date.now()
  const operation = options.operation ?? "put"
  return {
    id: randomUUID(),
    tableName: "threads",
    operation,
    pk,
    ...(operation === "put"
      ? {
        payload: {
          id: pk,
          title: options.title ?? `Thread ${pk}`,
          status: "ready",
          deleted: false,
          pinned: false,
          created_at: now,
          updated_at: now,
          clock: revision
        }
      }
      : {}),
    stamp: { deviceId: "device-test", opId: options.opId ?? randomUUID(), hlc: `${now}:${++clock}`, clock: revision },
    createdAt: now,
    attempts: 0,
    status: "pending"
  }
}

/** Pushes `ops` into the client's workspace and returns the response. */
export const push = (client: HostClient, workspaceId: string, ops: ReadonlyArray<unknown>) =>
  client.post("/api/sync/push", { scope: { workspaceId }, ops })

export const pull = (client: HostClient, workspaceId: string, cursor = 0, limit = 100) =>
  client.post("/api/sync/pull", { scope: { workspaceId }, cursor, limit })
