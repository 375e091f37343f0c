// Stand-in for the host's session resolution: it caches the session on `event.context` under a
// key beginning with `__or3_session_context_`, where the provider's facades read it. The test
// names the caller with two headers; without them the request has no session.
import { defineEventHandler, getHeader } from "h3"

export default defineEventHandler((event) => {
  const userId = getHeader(event, "x-test-user")
  if (userId === undefined) return
  const workspaceId = getHeader(event, "x-test-workspace")
  event.context.__or3_session_context_standin = {
    authenticated: true,
    user: { id: userId },
    workspace: workspaceId === undefined ? null : { id: workspaceId }
  }
})
