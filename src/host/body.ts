/**
 * Bounded JSON bodies (the host's `readLimitedJsonBody`): the declared length is checked before
 * anything is read, and the stream is counted while it is read, so an oversized or lying request
 * is refused with 413 without being buffered whole.
 */
import type { H3Event } from "h3"
import { httpError } from "./guards.js"

/** Body limit of the small control requests (snapshot, cursor, GC, workspaces, admin). */
export const CONTROL_BODY_BYTES = 16 * 1024

const tooLarge = () => httpError(413, "The request body is too large.")

export const readLimitedJsonBody = async (event: H3Event, maxBytes: number): Promise<unknown> => {
  const declared = event.node.req.headers["content-length"]
  if (declared !== undefined) {
    const length = Number(declared)
    if (!Number.isSafeInteger(length) || length < 0 || length > maxBytes) throw tooLarge()
  }
  const chunks: Array<Buffer> = []
  let length = 0
  for await (const chunk of event.node.req) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
    length += bytes.byteLength
    if (length > maxBytes) throw tooLarge()
    chunks.push(bytes)
  }
  try {
    return JSON.parse(Buffer.concat(chunks, length).toString("utf8"))
  } catch {
    throw httpError(400, "The request body must be valid JSON.")
  }
}
