// Stand-in for the host's `~~/server/sync/gateway/registry`.
import { defineRegistry } from "../../standins/registries.mjs"

const registry = defineRegistry("server/sync/gateway/registry")

export const registerSyncGatewayAdapter = registry.register
export const listSyncGatewayAdapterIds = registry.keys
export const getSyncGatewayAdapter = (id) => registry.get(id)?.create() ?? null
