// Stand-in for the host's `~~/server/auth/store/registry`.
import { defineRegistry } from "../../standins/registries.mjs"

const registry = defineRegistry("server/auth/store/registry")

export const registerAuthWorkspaceStore = registry.register
export const listAuthWorkspaceStoreIds = registry.keys
export const getAuthWorkspaceStore = (id) => registry.get(id)?.create() ?? null
