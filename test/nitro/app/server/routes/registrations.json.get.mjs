// Prerendered at build time: what the registries hold then, and what a store call answers then.
import { defineEventHandler } from "h3"
import { registeredKeys } from "../standins/registries.mjs"
import { store } from "../standins/provider.mjs"

export default defineEventHandler(async () => {
  const storeCall = await store()
    .getUser({ provider: "build", providerUserId: "build" })
    .then(() => 200, (error) => error.statusCode ?? 500)
  return { registered: registeredKeys(), storeCall }
})
