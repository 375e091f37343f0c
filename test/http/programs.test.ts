/**
 * The two newcomer programs, run in-process: `npm run demo` (its `main` returns the exit code)
 * and `npm start` (`serve`, on port 0 over a temp database), plus the bearer-token parsing
 * `npm start` relies on.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { bearerAuthenticator, parseHostTokens } from "../../src/host/bearerAuth.js"
import { main as demoMain } from "../../src/host/demo.js"
import { makeHostClient } from "../../src/host/HostClient.js"
import { serve } from "../../src/host/serve.js"

const dirs: Array<string> = []
const tempDir = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-host-test-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((dir) => Fs.rmSync(dir, { recursive: true, force: true })))

describe("npm run demo", () => {
  it("converges both devices after the offline edit, conflict, delete and GC, and exits 0", async () => {
    const lines: Array<string> = []
    expect(await demoMain((line) => lines.push(line))).toBe(0)
    const output = lines.join("\n")
    expect(output).toContain("Both devices match the server.")
    expect(output).not.toContain("MISMATCH")
    // The GC really removed the history the returning phone needed, so it had to snapshot.
    expect(output).toMatch(/rebuilt from a snapshot \([1-9]\d* pages\)/)
    expect(output).toMatch(/gc-change-log -> 204/)
  })
})

describe("npm start", () => {
  it("serves on loopback, prints working tokens and curl examples, and stops cleanly", async () => {
    const lines: Array<string> = []
    const dbPath = Path.join(tempDir(), "nested", "or3.sqlite")
    const { url, stop } = await serve({ PORT: "0", OR3_SQLITE_DB_PATH: dbPath }, (line) => lines.push(line))
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(Fs.existsSync(dbPath)).toBe(true)
      const output = lines.join("\n")
      expect(output).toContain(`listening on ${url}`)
      const token = /demo:alice\s+token (\S+)/.exec(output)?.[1]
      expect(token).toBeDefined()
      expect(output).toContain(`curl -s -X POST ${url}/api/sync/push`)
      const client = makeHostClient(url, token)
      const session = await client.get("/api/auth/session")
      expect(session.body.session).toMatchObject({ provider: "demo", providerUserId: "alice" })
      // The printed push example is valid as printed.
      const example = lines.find((line) => line.includes("/api/sync/push"))!
      const body = /-d '(.*)'$/.exec(example)![1]
      const pushed = await client.post("/api/sync/push", JSON.parse(body))
      expect(pushed.status).toBe(200)
      expect(pushed.body.results[0]).toMatchObject({ success: true, applied: true })
    } finally {
      await stop()
    }
  })

  it("takes users from OR3_HOST_TOKENS and does not print their tokens", async () => {
    const lines: Array<string> = []
    const { url, stop } = await serve(
      { PORT: "0", OR3_SQLITE_DB_PATH: Path.join(tempDir(), "or3.sqlite"), OR3_HOST_TOKENS: "s3cret=sso:42" },
      (line) => lines.push(line)
    )
    try {
      expect(lines.join("\n")).not.toContain("s3cret")
      const session = await makeHostClient(url, "s3cret").get("/api/auth/session")
      expect(session.body.session).toMatchObject({ provider: "sso", providerUserId: "42" })
      expect((await makeHostClient(url, "wrong").get("/api/auth/session")).body.session).toBeNull()
    } finally {
      await stop()
    }
  })

  it("honours OR3_SQLITE_DRIVER=libsql with OR3_SQLITE_LIBSQL_URL: the pushes land in that file", async () => {
    const lines: Array<string> = []
    const path = Path.join(tempDir(), "libsql.sqlite")
    const { url, stop } = await serve(
      { PORT: "0", OR3_SQLITE_DRIVER: "libsql", OR3_SQLITE_LIBSQL_URL: `file:${path}`, OR3_SQLITE_DB_PATH: Path.join(tempDir(), "not-this.sqlite") },
      (line) => lines.push(line)
    )
    try {
      expect(lines.join("\n")).toContain(`(database libSQL ${path})`)
      const token = /demo:alice\s+token (\S+)/.exec(lines.join("\n"))![1]
      const example = lines.find((line) => line.includes("/api/sync/push"))!
      const pushed = await makeHostClient(url, token).post("/api/sync/push", JSON.parse(/-d '(.*)'$/.exec(example)![1]))
      expect(pushed.status).toBe(200)
    } finally {
      await stop()
    }
    const Database = (await import("better-sqlite3")).default
    const db = new Database(path, { readonly: true })
    try {
      expect(db.prepare("SELECT count(*) AS n FROM change_log").get()).toEqual({ n: 1 })
    } finally {
      db.close()
    }
  })

  it("refuses a bad PORT or OR3_HOST_TOKENS before opening anything", async () => {
    await expect(serve({ PORT: "http" }, () => undefined)).rejects.toThrow(/PORT/)
    await expect(serve({ PORT: "0", OR3_HOST_TOKENS: "no-equals-sign" }, () => undefined)).rejects.toThrow(/OR3_HOST_TOKENS/)
  })
})

describe("bearer tokens", () => {
  it("parses token=provider:userId entries, keeping colons in the user id", () => {
    expect(parseHostTokens(" a=github:1, b=oidc:tenant:7 ,")).toEqual([
      { token: "a", identity: { provider: "github", providerUserId: "1" } },
      { token: "b", identity: { provider: "oidc", providerUserId: "tenant:7" } }
    ])
    for (const bad of ["a=github", "=github:1", "a=:1", "a=github:"]) expect(() => parseHostTokens(bad)).toThrow()
  })

  it("authenticates only an exact bearer token", async () => {
    const authenticate = bearerAuthenticator(parseHostTokens("tok=p:u"))
    const event = (authorization?: string) =>
      ({ node: { req: { headers: authorization === undefined ? {} : { authorization } } } }) as never
    expect(await authenticate(event("Bearer tok"))).toEqual({ provider: "p", providerUserId: "u" })
    expect(await authenticate(event("bearer tok"))).toEqual({ provider: "p", providerUserId: "u" })
    expect(await authenticate(event("Bearer tok2"))).toBeNull()
    expect(await authenticate(event("Basic tok"))).toBeNull()
    expect(await authenticate(event())).toBeNull()
  })
})
