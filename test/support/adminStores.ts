/**
 * Fixtures for the admin store tests: the three admin stores and AuthWorkspaceStore over one
 * private, migrated in-memory database with sequential ids, and small helpers on top.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { layerSqlMemory } from "../../src/layers/Migrations.js"
import { AdminUserStore } from "../../src/services/AdminUserStore.js"
import { AuthWorkspaceStore } from "../../src/services/AuthWorkspaceStore.js"
import { Ids } from "../../src/services/Ids.js"
import { WorkspaceAccessStore } from "../../src/services/WorkspaceAccessStore.js"
import { WorkspaceSettingsStore } from "../../src/services/WorkspaceSettingsStore.js"

type AdminServices =
  | AuthWorkspaceStore
  | WorkspaceAccessStore
  | WorkspaceSettingsStore
  | AdminUserStore
  | SqlClient.SqlClient

const layer: Layer.Layer<AdminServices> = Layer.mergeAll(
  AuthWorkspaceStore.DefaultWithoutDependencies,
  WorkspaceAccessStore.DefaultWithoutDependencies,
  WorkspaceSettingsStore.DefaultWithoutDependencies,
  AdminUserStore.DefaultWithoutDependencies
).pipe(Layer.provide(Ids.Test), Layer.provideMerge(layerSqlMemory), Layer.orDie)

/** Runs a test body on its own fresh database. */
export const withAdminStores = <A, E>(body: Effect.Effect<A, E, AdminServices>) => Effect.provide(body, layer)

/** The role `getWorkspaceRole` answers: what the host's session resolution (and so sync) sees. */
export const roleSeenBySync = (workspaceId: string, userId: string) =>
  Effect.flatMap(AuthWorkspaceStore, (store) => store.getWorkspaceRole({ workspaceId, userId }))

/** The first failure of `effect` (the test fails if it succeeds). */
export const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)
