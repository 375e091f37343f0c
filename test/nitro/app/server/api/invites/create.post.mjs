// The host's invite route: expiry is `floor(Date.now() / 1000) + ttlSeconds`, epoch seconds.
import { defineEventHandler, readBody } from "h3"
import { store, tokenHash } from "../../standins/provider.mjs"

export default defineEventHandler(async (event) => {
  const { email, invitedByUserId, role, token, ttlSeconds, workspaceId } = await readBody(event)
  const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds
  const { inviteId } = await store().createInvite({ workspaceId, email, role, invitedByUserId, expiresAt, tokenHash: tokenHash(token) })
  return { inviteId, expiresAt }
})
