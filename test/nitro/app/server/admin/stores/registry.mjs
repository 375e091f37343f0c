// Stand-in for the host's `~~/server/admin/stores/registry` (one admin store provider per id).
import { defineRegistry } from "../../standins/registries.mjs"

const registry = defineRegistry("server/admin/stores/registry")

export const registerAdminStoreProvider = registry.register
export const getAdminStoreProvider = registry.get
