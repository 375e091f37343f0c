/**
 * Type declarations of the OR3 host modules the Nitro plugin imports, so the package type-checks
 * on its own. At runtime the host resolves these specifiers (`~~` is the host's root, `#imports`
 * Nitro's auto-imports); the build leaves them untouched.
 * Types come through the package's own name (tsconfig `paths` maps it to `src/index.ts`), because
 * an ambient module declaration may not import a relative path. Shapes: contract sections 4 and 6.
 */

declare module "~~/server/sync/gateway/registry" {
  import type { Or3 } from "or3-provider-sqlite"
  /** Replaces an item with the same id (dev warning) and clears its cached instance. */
  export function registerSyncGatewayAdapter(item: Or3.SyncGatewayAdapterRegistryItem): void
  export function listSyncGatewayAdapterIds(): string[]
}

declare module "~~/server/auth/store/registry" {
  import type { Or3 } from "or3-provider-sqlite"
  export function registerAuthWorkspaceStore(item: Or3.AuthWorkspaceStoreRegistryItem): void
  export function listAuthWorkspaceStoreIds(): string[]
}

declare module "~~/server/admin/providers/registry" {
  import type { Or3 } from "or3-provider-sqlite"
  /** Keyed `${kind}:${id}`; replaces an existing adapter (dev warning). */
  export function registerProviderAdminAdapter(adapter: Or3.ProviderAdminAdapter): void
}

declare module "~~/server/admin/stores/registry" {
  import type { Or3 } from "or3-provider-sqlite"
  /** Keyed by `id` (the sync provider id); replaces an existing entry. */
  export function registerAdminStoreProvider(provider: Or3.AdminStoreProvider): void
}

declare module "~~/server/auth/deployment-admin" {
  import type { Or3 } from "or3-provider-sqlite"
  /** Keyed by the sync provider id; the host calls the factory when it resolves a checker. */
  export function registerDeploymentAdminChecker(id: string, create: Or3.DeploymentAdminCheckerFactory): void
}

declare module "#imports" {
  import type { Or3 } from "or3-provider-sqlite"
  export function useRuntimeConfig(): Or3.Or3RuntimeConfig
  export function defineNitroPlugin(plugin: Or3.NitroPluginLike): Or3.NitroPluginLike
}

interface ImportMeta {
  /** Nitro's build-time flag: replaced by `true` in the prerender bundle, `false` in the others. */
  readonly prerender?: boolean
}
