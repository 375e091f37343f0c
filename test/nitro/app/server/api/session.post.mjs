// Sign-in as the host's session resolution does it: the user for the identity, then their
// default workspace. The test then sends the ids as x-test-user / x-test-workspace.
import { defineEventHandler, readBody } from "h3"
import { store } from "../standins/provider.mjs"

export default defineEventHandler(async (event) => {
  const { provider, providerUserId } = await readBody(event)
  const { userId } = await store().getOrCreateUser({ provider, providerUserId })
  const { workspaceId } = await store().getOrCreateDefaultWorkspace(userId)
  return { userId, workspaceId }
})
