// What the host's routes do to reach the provider: look the registered store and gateway up by
// the configured provider id, then call them with the event (the gateway reads the session there).
import { createHash } from "node:crypto"
import { useRuntimeConfig } from "#imports"
import { getAuthWorkspaceStore } from "../auth/store/registry.mjs"
import { getSyncGatewayAdapter } from "../sync/gateway/registry.mjs"

export const store = () => getAuthWorkspaceStore(useRuntimeConfig().public.sync.provider)
export const gateway = () => getSyncGatewayAdapter(useRuntimeConfig().sync.provider)

/** The host passes only the hex SHA-256 of an invite token to the store. */
export const tokenHash = (token) => createHash("sha256").update(token).digest("hex")
