/**
 * Request guards the host puts in front of its handlers: no caching of sync or session data, and
 * the cloud-mutation check (`requireCloudMutation`: an explicit intent header, a JSON body, and a
 * same-origin browser or an origin-less bearer client), which keeps a third-party page from
 * making a logged-in browser write.
 */
import { createError, getRequestHeader, type H3Event, setResponseHeader } from "h3"

/** The header (and value) a client sets on every mutation. */
export const MUTATION_INTENT_HEADER = "x-or3-cloud-intent"
export const MUTATION_INTENT_VALUE = "mutation"

/** Sync and session answers are per user and change with every write. */
export const setNoStore = (event: H3Event): void => {
  setResponseHeader(event, "Cache-Control", "no-store")
}

export const httpError = (statusCode: number, statusMessage: string, data?: Record<string, unknown>) =>
  createError({ statusCode, statusMessage, ...(data === undefined ? {} : { data }) })

/** The origin a browser request came from (`Origin`, else the `Referer`'s), or null when unusable. */
const requestSource = (value: string | undefined, mustBeOrigin: boolean): string | null => {
  if (value === undefined || value === "") return null
  try {
    const url = new URL(value)
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username !== "" || url.password !== "") {
      return null
    }
    if (mustBeOrigin && url.origin !== value) return null
    return url.origin
  } catch {
    return null
  }
}

export interface MutationGuardOptions {
  /** Extra browser origins allowed to mutate. */
  readonly allowedOrigins: ReadonlyArray<string>
  /** Require `Content-Type: application/json` (415 otherwise); false for bodiless DELETE. */
  readonly requireJson: boolean
}

/**
 * 403 without the intent header; 415 without a JSON content type; 403 when a browser origin is
 * neither the request's own origin nor an allowed one. A request with no Origin, no Referer and
 * no cookie that carries a bearer token is a separately authenticated API client and passes.
 */
export const requireCloudMutation = (event: H3Event, options: MutationGuardOptions): void => {
  if (getRequestHeader(event, MUTATION_INTENT_HEADER) !== MUTATION_INTENT_VALUE) {
    throw httpError(403, "Forbidden: Missing mutation intent")
  }
  if (options.requireJson) {
    const mediaType = getRequestHeader(event, "content-type")?.split(";", 1)[0]?.trim().toLowerCase()
    if (mediaType !== "application/json") throw httpError(415, "JSON request required")
  }
  const origin = getRequestHeader(event, "origin")
  const referer = getRequestHeader(event, "referer")
  if (origin === undefined && referer === undefined) {
    const bearer = /^Bearer\s+\S+$/i.test(getRequestHeader(event, "authorization") ?? "")
    if (bearer && getRequestHeader(event, "cookie") === undefined) return
  }
  const source = requestSource(origin ?? referer, origin !== undefined)
  if (source === null) throw httpError(403, "Forbidden: Origin validation failed")
  const host = getRequestHeader(event, "host")
  const ownOrigin = host === undefined ? null : `${isTls(event) ? "https" : "http"}://${host}`
  if (source !== ownOrigin && !options.allowedOrigins.includes(source)) {
    throw httpError(403, "Forbidden: Origin mismatch")
  }
}

/** The reference host trusts no proxy headers: the socket says whether the request came over TLS. */
const isTls = (event: H3Event): boolean =>
  (event.node.req.socket as { encrypted?: boolean } | undefined)?.encrypted === true
