// The host's sync routes, one per gateway method: the body goes to the adapter with the event.
import { createError, defineEventHandler, getRouterParam, readBody } from "h3"
import { gateway } from "../../standins/provider.mjs"

const methods = {
  push: "push",
  pull: "pull",
  snapshot: "snapshot",
  "update-cursor": "updateCursor",
  "gc-change-log": "gcChangeLog",
  "gc-tombstones": "gcTombstones"
}

export default defineEventHandler(async (event) => {
  const method = methods[getRouterParam(event, "method")]
  if (method === undefined) throw createError({ statusCode: 404 })
  const result = await gateway()[method](event, await readBody(event))
  return result ?? { ok: true }
})
