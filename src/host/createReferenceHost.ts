/**
 * The reference host: an h3 app that serves the OR3 routes over a provider's facades the way the
 * OR3 Chat host does (contract 5), so the provider can be tried, tested and benchmarked over
 * real HTTP without the OR3 app. There is no rate limiting, no invite-only registration, and no
 * deployment admin: sign-in is open, and the owner of the active workspace is the admin.
 */
import { type App, createApp, createRouter } from "h3"
import { registerAccountRoutes } from "./accountRoutes.js"
import { registerGcRoutes } from "./gcRoutes.js"
import { makeHostContext } from "./HostContext.js"
import { registerSyncRoutes } from "./syncRoutes.js"
import type { ReferenceHostOptions } from "./types.js"
import { registerWorkspaceRoutes } from "./workspaceRoutes.js"

export const createReferenceHost = (options: ReferenceHostOptions): App => {
  const host = makeHostContext(options)
  const router = createRouter()
  registerSyncRoutes(router, host)
  registerGcRoutes(router, host)
  registerWorkspaceRoutes(router, host)
  registerAccountRoutes(router, host)
  const app = createApp()
  app.use(router)
  return app
}
