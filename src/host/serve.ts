/**
 * `npm start`: the reference host over a SQLite file, on 127.0.0.1, with bearer-token sign-in.
 *
 * - `PORT` (default 3000); `OR3_HOST_BIND` to listen on another address (loopback by default,
 *   since tokens travel in clear).
 * - `OR3_SQLITE_DB_PATH` (default `./.data/or3.sqlite`); the other `OR3_SQLITE_*` variables apply,
 *   read from the `env` given (the process environment for `npm start`): with
 *   `OR3_SQLITE_DRIVER=libsql`, `OR3_SQLITE_LIBSQL_URL` names the database.
 * - `OR3_HOST_TOKENS=token=provider:userId,...`, or two demo users with fresh random tokens.
 *
 * SIGINT and SIGTERM close the server and dispose the provider (WAL checkpoint, connection close).
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomUUID } from "node:crypto"
import { providerLayer } from "../facades/createSqliteProvider.js"
import { makeSqliteProvider } from "../facades/SqliteProvider.js"
import { driverFromEnv } from "../layers/Database.js"
import { optionalString } from "../layers/SqliteConfig.js"
import { bearerAuthenticator, parseHostTokens, randomToken, type TokenGrant } from "./bearerAuth.js"
import { createReferenceHost } from "./createReferenceHost.js"
import { MUTATION_INTENT_HEADER, MUTATION_INTENT_VALUE } from "./guards.js"
import { listenReferenceHost, LOOPBACK } from "./listen.js"

export const DEFAULT_PORT = 3000
export const DEFAULT_DB_PATH = "./.data/or3.sqlite"

const parsePort = (value: string | undefined): number => {
  if (value === undefined || value.trim() === "") return DEFAULT_PORT
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: expected 0..65535, got "${value}"`)
  return port
}

const demoGrants = (): Array<TokenGrant> => [
  { token: randomToken(), identity: { provider: "demo", providerUserId: "alice", displayName: "Alice" } },
  { token: randomToken(), identity: { provider: "demo", providerUserId: "bob", displayName: "Bob" } }
]

const curlExamples = (url: string, token: string, workspaceId: string): Array<string> => {
  const auth = `-H "Authorization: Bearer ${token}"`
  const write = `${auth} -H 'Content-Type: application/json' -H '${MUTATION_INTENT_HEADER}: ${MUTATION_INTENT_VALUE}'`
  const scope = `"scope":{"workspaceId":"${workspaceId}"}`
  const now = Date.now()
  const payload =
    `{"id":"t1","title":"Hello from curl","status":"ready","deleted":false,"pinned":false,"created_at":${now},"updated_at":${now},"clock":1}`
  const op =
    `{"id":"op-1","tableName":"threads","operation":"put","pk":"t1","payload":${payload},"stamp":{"deviceId":"curl","opId":"${randomUUID()}","hlc":"${now}:0:curl","clock":1},"createdAt":${now},"attempts":0,"status":"pending"}`
  return [
    `curl -s ${url}/api/auth/session ${auth}`,
    `curl -s ${url}/api/workspaces ${auth}`,
    `curl -s -X POST ${url}/api/sync/push ${write} -d '{${scope},"ops":[${op}]}'`,
    `curl -s -X POST ${url}/api/sync/pull ${auth} -H 'Content-Type: application/json' -d '{${scope},"cursor":0,"limit":100}'`,
    `curl -s -X POST ${url}/api/sync/snapshot ${auth} -H 'Content-Type: application/json' -d '{${scope},"pageSize":100}'`
  ]
}

/**
 * The database `npm start` opens: the configured one (read from `settings`, as the provider reads
 * it), else `./.data/or3.sqlite`. With libSQL a URL wins over a path (a path would stand for
 * `file:<path>` and override it).
 */
const database = (settings: ConfigProvider.ConfigProvider): Promise<{ path?: string; display: string }> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const driver = yield* Effect.either(driverFromEnv)
      if (driver._tag === "Right" && driver.right === "libsql") {
        // What the log may show: a file path, or the server without credentials. (Libsql.js loads
        // the libSQL client, so only when chosen.)
        const { libsqlOptionsFromEnv, parseLibsqlUrl } = yield* Effect.promise(() => import("../layers/Libsql.js"))
        const { url } = yield* libsqlOptionsFromEnv
        if (url !== undefined) {
          const target = yield* Effect.either(parseLibsqlUrl(url))
          if (target._tag === "Left") return { display: "libSQL (OR3_SQLITE_LIBSQL_URL)" }
          const where = target.right
          return { display: `libSQL ${where._tag === "File" ? where.path : where._tag === "Remote" ? where.display : ":memory:"}` }
        }
      }
      const path = (yield* optionalString("OR3_SQLITE_DB_PATH"))?.trim() ?? DEFAULT_DB_PATH
      return { path, display: path }
    }).pipe(Effect.withConfigProvider(settings))
  )

/** Starts the host; resolves once it listens, with a function that shuts it down. */
export const serve = async (env: NodeJS.ProcessEnv, log: (line: string) => void = console.log) => {
  const port = parsePort(env.PORT)
  const hostname = env.OR3_HOST_BIND?.trim() || LOOPBACK
  const configured = env.OR3_HOST_TOKENS?.trim()
  const grants = configured ? parseHostTokens(configured) : demoGrants()
  if (grants.length === 0) throw new Error("OR3_HOST_TOKENS: no tokens given")
  // The provider reads its OR3_SQLITE_* settings from `env`, not from process.env behind it.
  const variables = new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
  const settings = ConfigProvider.fromMap(variables)
  const { path, display } = await database(settings)
  const provider = await makeSqliteProvider(providerLayer({ path }).pipe(Layer.provide(Layer.setConfigProvider(settings))))
  const app = createReferenceHost({ provider, authenticate: bearerAuthenticator(grants) })
  const host = await listenReferenceHost(app, { port, hostname }).catch(async (error) => {
    await provider.dispose()
    throw error
  })

  // Provision the first user now, so the examples can name a real workspace.
  const store = provider.authWorkspaceStore
  const first = grants[0]
  const { userId } = await store.getOrCreateUser({ ...first.identity })
  const { workspaceId } = await store.getOrCreateDefaultWorkspace(userId)

  log(`OR3 reference host listening on ${host.url} (database ${display})`)
  if (hostname !== LOOPBACK && hostname !== "localhost" && hostname !== "::1") {
    log(`WARNING: bound to ${hostname}; bearer tokens travel in clear over plain HTTP.`)
  }
  log(configured ? "Users from OR3_HOST_TOKENS:" : "Demo users (new random tokens on every start):")
  for (const grant of grants) {
    const who = `${grant.identity.provider}:${grant.identity.providerUserId}`
    log(`  ${who.padEnd(20)} ${configured ? "(token from OR3_HOST_TOKENS)" : `token ${grant.token}`}`)
  }
  const token = configured ? "$TOKEN" : first.token
  log(`\nTry it as ${first.identity.provider}:${first.identity.providerUserId} (workspace ${workspaceId}):`)
  for (const line of curlExamples(host.url, token, workspaceId)) log(`  ${line}`)
  log("\nCtrl-C stops the server.")

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= host.close().finally(() => provider.dispose()))
  return { url: host.url, stop }
}

/** `serve` as a process: stops cleanly on SIGINT/SIGTERM; a failed start exits with 1. */
export const main = async (): Promise<void> => {
  try {
    const { stop } = await serve(process.env)
    const shutdown = (signal: string) => {
      console.log(`\n${signal}: closing connections and the database...`)
      stop().then(
        () => process.exit(0),
        (error) => {
          console.error("Shutdown failed:", error)
          process.exit(1)
        }
      )
    }
    process.once("SIGINT", () => shutdown("SIGINT"))
    process.once("SIGTERM", () => shutdown("SIGTERM"))
  } catch (error) {
    console.error("The reference host could not start:", error instanceof Error ? error.message : error)
    process.exitCode = 1
  }
}
