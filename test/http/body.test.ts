/**
 * How the host reads a JSON body over real HTTP: declared and streamed limits, a body sent in
 * many small chunks, and a client that goes away mid-body.
 */
import { request as httpRequest } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshUser, type SignedIn, signIn, startTestHost, type TestHost, threadOp } from "./support.js"

let host: TestHost
let alice: SignedIn
const name = freshUser("body")

beforeAll(async () => {
  host = await startTestHost()
  alice = await signIn(host, name)
})
afterAll(() => host.close())

/** Sends `chunks` with chunked transfer encoding; `abortAfter` stops the upload after that many. */
const sendChunked = (path: string, user: string, chunks: ReadonlyArray<string>, abortAfter?: number) =>
  new Promise<{ status: number; connection: string | undefined; body: string } | "aborted">((resolve, reject) => {
    const req = httpRequest(new URL(path, host.url), {
      method: "POST",
      headers: {
        authorization: `Bearer user-${user}`,
        "content-type": "application/json",
        "x-or3-cloud-intent": "mutation",
        "transfer-encoding": "chunked"
      }
    }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (text: string) => (body += text))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
    })
    req.on("error", (error) => (abortAfter === undefined ? reject(error) : resolve("aborted")))
    chunks.forEach((chunk, index) => {
      if (abortAfter !== undefined && index === abortAfter) {
        // Let the chunks already written reach the server before the socket goes.
        setTimeout(() => req.destroy(), 50)
        return
      }
      if (abortAfter === undefined || index < abortAfter) req.write(chunk)
    })
    if (abortAfter === undefined) req.end()
  })

describe("request bodies", () => {
  it("reads a body sent in many small chunks", async () => {
    const text = JSON.stringify({ scope: { workspaceId: alice.workspaceId }, ops: [threadOp("chunked-1"), threadOp("chunked-2")] })
    const chunks = text.match(/[\s\S]{1,7}/g) ?? []
    const response = await sendChunked("/api/sync/push", name, chunks)
    expect(response).not.toBe("aborted")
    if (response === "aborted") return
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body).results).toHaveLength(2)
  })

  it("refuses a streamed body over the limit with 413 and closes the connection", async () => {
    const chunk = "x".repeat(64 * 1024)
    const response = await sendChunked("/api/sync/pull", name, ["{\"blob\":\"", chunk, "\"}"])
    expect(response).toMatchObject({ status: 413, connection: "close" })
  })

  it("answers 400 for a body that is not JSON, and moves on when a client stops mid-body", async () => {
    const invalid = await sendChunked("/api/sync/push", name, ["{\"scope\":", "nope"])
    expect(invalid).toMatchObject({ status: 400 })
    const aborted = await sendChunked("/api/sync/push", name, ["{\"scope\":", "{}", "}"], 2)
    expect(aborted).toBe("aborted")
    // The handler ended without an unexpected failure, and the host still serves.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(host.logged).toEqual([])
    expect((await alice.client.get("/api/auth/session")).status).toBe(200)
  })
})
