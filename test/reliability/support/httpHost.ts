/**
 * The reference host over a real provider, for the HTTP suites: one SQLite file, one server on
 * 127.0.0.1:0, bearer-token users, and a clock the test moves.
 *
 * `createSqliteProvider` takes no Clock, so the provider is built the way it builds itself
 * (`makeSqliteProvider(providerLayer(options))`) with `Layer.setClock` provided underneath: the
 * services read time only through Effect's `Clock`, so moving the clock moves retention windows,
 * snapshot expiry and invite expiry, while the HTTP server keeps real time.
 */
import { Layer, Logger, LogLevel } from "effect"
import * as Path from "node:path"
import { providerLayer } from "../../../src/facades/createSqliteProvider.js"
import { makeSqliteProvider, type SqliteProvider } from "../../../src/facades/SqliteProvider.js"
import { bearerAuthenticator, randomToken } from "../../../src/host/bearerAuth.js"
import { createReferenceHost } from "../../../src/host/createReferenceHost.js"
import { makeDemoClock } from "../../../src/host/demoClock.js"
import { type HostClient, makeHostClient } from "../../../src/host/HostClient.js"
import { listenReferenceHost } from "../../../src/host/listen.js"
import { dumpAll, withRaw } from "./invariants.js"

export interface TestUser {
  readonly name: string
  readonly token: string
  readonly client: HostClient
  /** Filled by `signIn`. */
  userId: string
  workspaceId: string
}

export interface TestHost {
  readonly url: string
  readonly dbPath: string
  readonly provider: SqliteProvider
  /** The provider's clock: wall time plus an offset the test moves forward. */
  readonly clock: { readonly now: () => number; readonly advance: (millis: number) => void }
  readonly users: Record<string, TestUser>
  /** Unexpected failures the host logged (each one became a 500). */
  readonly hostErrors: Array<string>
  /** An anonymous client. */
  readonly anonymous: HostClient
  /** Resolves a user's session once (provisioning user and default workspace). */
  readonly signIn: (name: string) => Promise<TestUser>
  /** Every table of the file, read on a separate read-only connection. */
  readonly dump: () => Record<string, Array<unknown>>
  readonly close: () => Promise<void>
}

export const startTestHost = async (dir: string, names: ReadonlyArray<string>): Promise<TestHost> => {
  const dbPath = Path.join(dir, "host.sqlite")
  const clock = makeDemoClock()
  // NORMAL: these suites test HTTP behaviour, not fsync; the crash suites run FULL.
  const provider = await makeSqliteProvider(
    providerLayer({ path: dbPath, synchronous: "NORMAL" }).pipe(
      Layer.provide(Layer.merge(Layer.setClock(clock.clock), Logger.minimumLogLevel(LogLevel.Error)))
    )
  )
  const grants = names.map((name) => ({
    token: randomToken(),
    identity: { provider: "test", providerUserId: name, email: `${name}@example.com`, displayName: name }
  }))
  const hostErrors: Array<string> = []
  const app = createReferenceHost({
    provider,
    authenticate: bearerAuthenticator(grants),
    logError: (message, error) => hostErrors.push(`${message}: ${error instanceof Error ? error.stack : String(error)}`)
  })
  const host = await listenReferenceHost(app)
  const users: Record<string, TestUser> = Object.fromEntries(grants.map((grant, i) => [names[i], {
    name: names[i],
    token: grant.token,
    client: makeHostClient(host.url, grant.token),
    userId: "",
    workspaceId: ""
  }]))
  const signIn = async (name: string) => {
    const user = users[name]
    const response = await user.client.get("/api/auth/session")
    if (response.status !== 200 || response.body.session === null) {
      throw new Error(`sign-in of ${name}: ${response.status} ${JSON.stringify(response.body)}`)
    }
    user.userId = response.body.session.user.id
    user.workspaceId = response.body.session.workspace.id
    return user
  }
  return {
    url: host.url,
    dbPath,
    provider,
    clock,
    users,
    hostErrors,
    anonymous: makeHostClient(host.url),
    signIn,
    dump: () => withRaw(dbPath, dumpAll, { readonly: true }),
    close: async () => {
      await host.close()
      await provider.dispose()
    }
  }
}

/** A push op the host's table schemas accept (contract 2), for `tableName` and `pk`. */
export const validOp = (
  tableName: string,
  pk: string,
  options: { readonly opId: string; readonly clock: number; readonly deviceId?: string; readonly hlc?: string; readonly delete?: boolean; readonly payload?: Record<string, unknown>; readonly userId?: string }
) => {
  const now = 1_700_000_000_000
  const common = { deleted: false, created_at: now, updated_at: now, clock: options.clock }
  const payloads: Record<string, Record<string, unknown>> = {
    threads: { id: pk, title: `t ${pk}`, status: "ready", pinned: false, ...common },
    messages: { id: pk, thread_id: "t-1", role: "user", index: options.clock, order_key: `k${options.clock}`, ...common },
    projects: { id: pk, name: `p ${pk}`, ...common },
    posts: { id: pk, title: "post", content: "body", post_type: "doc", ...common },
    file_meta: { hash: pk, kind: "image", mime_type: "image/png", size_bytes: 10, ...common },
    kv: { id: pk, name: `n ${pk}`, value: "v", created_at: now, updated_at: now, clock: options.clock },
    notifications: { id: pk, user_id: options.userId ?? "nobody", type: "info", title: "hello", ...common }
  }
  const deviceId = options.deviceId ?? "device-test"
  return {
    id: `row-${options.opId}`,
    tableName,
    operation: options.delete === true ? "delete" : "put",
    pk,
    ...(options.delete === true ? {} : { payload: options.payload ?? payloads[tableName] ?? { id: pk } }),
    stamp: { deviceId, opId: options.opId, hlc: options.hlc ?? `${String(options.clock).padStart(6, "0")}-${deviceId}`, clock: options.clock },
    createdAt: now,
    attempts: 0,
    status: "pending"
  }
}
