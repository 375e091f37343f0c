/**
 * The gateway the snapshot, cursor, GC and property tests run against: `SyncGateway.Test`, a
 * private migrated in-memory database with sequential ids.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, type Layer } from "effect"
import { SyncGateway } from "../../src/services/SyncGateway.js"

export const GatewayTest: Layer.Layer<SyncGateway | SqlClient.SqlClient> = SyncGateway.Test

/** Runs a test body on its own fresh gateway and database. */
export const withGateway = <A, E>(body: Effect.Effect<A, E, SyncGateway | SqlClient.SqlClient>) =>
  Effect.provide(body, GatewayTest)
