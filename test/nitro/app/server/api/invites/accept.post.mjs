// The host's session path for a new user arriving with an invite token.
import { defineEventHandler, readBody } from "h3"
import { store, tokenHash } from "../../standins/provider.mjs"

export default defineEventHandler(async (event) => {
  const { email, provider, providerUserId, token, workspaceId } = await readBody(event)
  return store().acceptInviteAndProvisionUser({ provider, providerUserId, email, workspaceId, tokenHash: tokenHash(token) })
})
