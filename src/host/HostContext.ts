/**
 * What every route module of the reference host shares: the provider's facades, the session
 * resolver, the mutation guard, and the wrapper that keeps unexpected failures from reaching the
 * client with their message (an h3 error passes through with its status; anything else is logged
 * and becomes a generic 500, as a plain `Error` does in the host).
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { defineEventHandler, type EventHandler, type H3Event, isError } from "h3"
import { requireCloudMutation, httpError } from "./guards.js"
import { type Permission, requireCan } from "./permissions.js"
import { makeSessionResolver, requireResolved, type ResolvedSession, type SessionResolver } from "./session.js"
import type { ReferenceHostOptions, ReferenceHostProvider } from "./types.js"

export interface HostContext {
  readonly provider: ReferenceHostProvider
  readonly sessions: SessionResolver
  /** The cloud-mutation guard; `requireJson: false` for bodiless requests. */
  readonly requireMutation: (event: H3Event, requireJson?: boolean) => void
  /** The session with user and workspace (401), allowed `permission` on `workspaceId` (403). */
  readonly requireSession: (event: H3Event, permission: Permission, workspaceId?: string) => Promise<ResolvedSession>
  readonly route: (handler: (event: H3Event) => Promise<unknown>) => EventHandler
  readonly logError: (message: string, error: unknown) => void
}

export const makeHostContext = (options: ReferenceHostOptions): HostContext => {
  const sessions = makeSessionResolver(options.provider.authWorkspaceStore, options.authenticate, options.sessionCache)
  const allowedOrigins = options.allowedOrigins ?? []
  const logError = options.logError ?? ((message, error) => console.error(`[or3-reference-host] ${message}`, error))
  return {
    provider: options.provider,
    sessions,
    logError,
    requireMutation: (event, requireJson = true) => requireCloudMutation(event, { allowedOrigins, requireJson }),
    requireSession: async (event, permission, workspaceId) => {
      const session = requireResolved(await sessions.resolve(event))
      requireCan(session, permission, { kind: "workspace", id: workspaceId ?? session.workspace.id })
      return session
    },
    route: (handler) =>
      defineEventHandler(async (event) => {
        try {
          return await handler(event)
        } catch (error) {
          if (isError(error) && !error.unhandled) throw error
          logError(`${event.method} ${event.path} failed`, error)
          throw httpError(500, "Internal Server Error")
        }
      })
  }
}

/** Decodes a request body with `schema`, or fails with 400 and the route's fixed message. */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, message: string) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "ignore" })
  return (body: unknown): A =>
    Either.getOrThrowWith(decode(body), () => httpError(400, message))
}
