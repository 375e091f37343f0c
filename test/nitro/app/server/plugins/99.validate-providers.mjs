// Stand-in for the host's strict validator, which runs after the provider plugins: the
// configured sync provider must be registered as gateway and as workspace store. It runs in
// every build here (the host's skips the prerender), so a prerender proves the registrations too.
import { defineNitroPlugin, useRuntimeConfig } from "#imports"
import { registeredKeys } from "../standins/registries.mjs"

export default defineNitroPlugin(() => {
  const { sync } = useRuntimeConfig()
  const keys = registeredKeys()
  const missing = ["server/sync/gateway/registry", "server/auth/store/registry"].filter(
    (path) => !keys[path].includes(sync.provider)
  )
  if (missing.length > 0) throw new Error(`[standin-validator] "${sync.provider}" is not registered in ${missing.join(", ")}`)
})
