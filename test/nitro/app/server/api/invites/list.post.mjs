// The host's invite list route.
import { defineEventHandler, readBody } from "h3"
import { store } from "../../standins/provider.mjs"

export default defineEventHandler(async (event) => ({ invites: await store().listInvites(await readBody(event)) }))
