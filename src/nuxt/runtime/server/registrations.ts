/**
 * Which registrations the Nitro plugin makes for a runtime config: a pure function, so every
 * combination is tested without a host.
 */
import type { Or3 } from "or3-provider-sqlite"

export interface Registrations {
  /**
   * Register the AuthWorkspaceStore, and with it the sync ProviderAdminAdapter, the admin store
   * provider and the deployment-admin checker (and start the provider at all).
   */
  readonly authWorkspaceStore: boolean
  /** Register the SyncGatewayAdapter. */
  readonly syncGatewayAdapter: boolean
  /** Open (and migrate) the database now; never while Nitro prerenders pages at build time. */
  readonly openDatabase: boolean
  /** Configuration problems worth a log line; none of them stops the registrations. */
  readonly warnings: ReadonlyArray<string>
}

const PROVIDER_ID = "sqlite"

/** Runtime-config flags come from env through Nuxt (parsed with destr), or as strings. */
const isOn = (value: unknown) => value === true || value === "true"

const providerName = (value: unknown) => (typeof value === "string" ? value : undefined)

/**
 * - Nothing unless `auth.enabled`: the store and the gateway serve authenticated sessions only.
 * - The store whenever `sync.provider` or `public.sync.provider` is `'sqlite'`, even with sync
 *   off: the host resolves the session's store through the sync provider id regardless of
 *   `sync.enabled` (contract 5.7 and 10; the older provider missed this case).
 * - The gateway only when sync is also enabled, so the host's strict validator and its
 *   maintenance scheduler see it exactly when sync runs on SQLite.
 * - The admin adapter, the admin stores and the deployment-admin checker with the store: the
 *   adapter's status and GC actions concern the same database, and the host shows it under the
 *   configured sync provider; the host finds the stores and the checker through `sync.provider`,
 *   and they read the same users and workspaces.
 * - The database is opened whenever something is registered, except under `prerender`: `nuxt
 *   build` runs the plugins on the build machine to prerender pages, where the registrations are
 *   still made (the host's validator may run) but the runtime database must not be created.
 */
export const decideRegistrations = (
  config: Or3.Or3RuntimeConfig | undefined,
  options: { readonly prerender?: boolean } = {}
): Registrations => {
  const none: Registrations = {
    authWorkspaceStore: false,
    syncGatewayAdapter: false,
    openDatabase: false,
    warnings: []
  }
  if (!isOn(config?.auth?.enabled)) return none

  const privateProvider = providerName(config?.sync?.provider)
  const publicProvider = providerName(config?.public?.sync?.provider)
  const selected = privateProvider === PROVIDER_ID || publicProvider === PROVIDER_ID
  if (!selected) return none

  const warnings: Array<string> = []
  if (privateProvider !== undefined && publicProvider !== undefined && privateProvider !== publicProvider) {
    warnings.push(
      `sync.provider is '${privateProvider}' but public.sync.provider is '${publicProvider}': the host finds the ` +
        `workspace store through one and the sync gateway through the other; set OR3_SYNC_PROVIDER so both agree`
    )
  }
  return {
    authWorkspaceStore: true,
    syncGatewayAdapter: isOn(config?.sync?.enabled),
    openDatabase: options.prerender !== true,
    warnings
  }
}
