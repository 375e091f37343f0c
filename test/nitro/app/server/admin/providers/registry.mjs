// Stand-in for the host's `~~/server/admin/providers/registry` (keyed `${kind}:${id}`).
import { defineRegistry } from "../../standins/registries.mjs"

const registry = defineRegistry("server/admin/providers/registry", { key: (adapter) => `${adapter.kind}:${adapter.id}` })

export const registerProviderAdminAdapter = registry.register
export const getProviderAdminAdapter = (kind, id) => registry.get(`${kind}:${id}`)
