/**
 * Bearer-token sign-in for the reference host: a fixed table of tokens, each naming an identity
 * (`OR3_HOST_TOKENS=token=provider:userId,...`). Tokens are kept only as SHA-256 digests and
 * looked up by the digest of what was presented, so a lookup takes the same time whichever
 * token, if any, it matches.
 */
import { createHash, randomBytes } from "node:crypto"
import { getRequestHeader } from "h3"
import type { Authenticate, HostIdentity } from "./types.js"

export interface TokenGrant {
  readonly token: string
  readonly identity: HostIdentity
}

const digest = (token: string) => createHash("sha256").update(token, "utf8").digest("base64")

/** A new random token (192 bits, base64url). */
export const randomToken = (): string => randomBytes(24).toString("base64url")

/**
 * Parses `token=provider:userId` entries separated by commas. The user id may itself contain
 * colons (everything after the first one). Throws with the offending entry on a malformed one.
 */
export const parseHostTokens = (spec: string): Array<TokenGrant> =>
  spec
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const equals = entry.indexOf("=")
      const token = entry.slice(0, equals).trim()
      const subject = entry.slice(equals + 1).trim()
      const colon = subject.indexOf(":")
      const provider = subject.slice(0, colon).trim()
      const providerUserId = subject.slice(colon + 1).trim()
      if (equals <= 0 || colon <= 0 || token === "" || provider === "" || providerUserId === "") {
        throw new Error(`OR3_HOST_TOKENS: expected token=provider:userId, got "${entry}"`)
      }
      return { token, identity: { provider, providerUserId } }
    })

/** `Authorization: Bearer <token>` against `grants`; anything else is anonymous. */
export const bearerAuthenticator = (grants: ReadonlyArray<TokenGrant>): Authenticate => {
  const identities = new Map(grants.map((grant) => [digest(grant.token), grant.identity]))
  return async (event) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(getRequestHeader(event, "authorization") ?? "")
    if (match === null) return null
    return identities.get(digest(match[1])) ?? null
  }
}
