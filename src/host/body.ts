/**
 * Bounded JSON bodies (the host's `readLimitedJsonBody`): the declared length is checked before
 * anything is read, and the stream is counted while it is read, so an oversized or lying request
 * is refused with 413 without being buffered whole. A body cut short by the client is a 400, not
 * a server failure.
 */
import type { H3Event } from "h3"
import { httpError } from "./guards.js"

/** Body limit of the small control requests (snapshot, cursor, GC, workspaces, admin). */
export const CONTROL_BODY_BYTES = 16 * 1024

const tooLarge = () => httpError(413, "The request body is too large.")

const parseJson = (bytes: Buffer): unknown => {
  try {
    return JSON.parse(bytes.toString("utf8"))
  } catch {
    throw httpError(400, "The request body must be valid JSON.")
  }
}

export const readLimitedJsonBody = (event: H3Event, maxBytes: number): Promise<unknown> => {
  const { req, res } = event.node
  const declared = req.headers["content-length"]
  if (declared !== undefined) {
    const length = Number(declared)
    if (!Number.isSafeInteger(length) || length < 0 || length > maxBytes) return Promise.reject(tooLarge())
  }
  // Read already (no 'end' will come): as the empty body it now is.
  if (req.readableEnded) return Promise.reject(httpError(400, "The request body must be valid JSON."))
  // Plain listeners: an async iterator over the request costs a promise per chunk.
  return new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let length = 0
    const done = () => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", cutShort)
      req.off("close", cutShort)
    }
    const onData = (chunk: Buffer | string) => {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
      length += bytes.byteLength
      if (length > maxBytes) {
        done()
        // The rest is never read: the connection closes after the 413 instead of draining it.
        res.setHeader("connection", "close")
        reject(tooLarge())
        return
      }
      chunks.push(bytes)
    }
    const onEnd = () => {
      done()
      try {
        resolve(parseJson(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length)))
      } catch (error) {
        reject(error)
      }
    }
    // The client went away before the end ("aborted", or a close without one): nobody will read
    // the answer, but the handler must end, and it is not the server's failure.
    const cutShort = () => {
      done()
      reject(httpError(400, "The request body was cut short."))
    }
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", cutShort)
    req.on("close", cutShort)
  })
}
