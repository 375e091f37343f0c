// Stand-in for the host's `~~/server/auth/deployment-admin` (one checker factory per provider id).
import { defineRegistry } from "../standins/registries.mjs"

const registry = defineRegistry("server/auth/deployment-admin", { toItem: (id, create) => ({ id, create }) })

export const registerDeploymentAdminChecker = registry.register
export const getDeploymentAdminChecker = (id) => registry.get(id)?.create() ?? null
