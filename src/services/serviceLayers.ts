/**
 * The two ways every service's layer is completed: with random ids for a real database, and on a
 * private in-memory database for tests.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Layer from "effect/Layer"
import { layerSqlMemory } from "../layers/Migrations.js"
import { Ids } from "./Ids.js"

/** `layer` with random UUIDs; it still needs a (migrated) SqlClient. */
export const withRandomIds = <A, E>(
  layer: Layer.Layer<A, E, SqlClient.SqlClient | Ids>
): Layer.Layer<A, E, SqlClient.SqlClient> => layer.pipe(Layer.provide(Ids.Default))

/**
 * `layer` on a private, migrated in-memory database with sequential ids, the SqlClient exposed too
 * so that a test can look at (or sabotage) the tables.
 */
export const onTestDatabase = <A, E>(
  layer: Layer.Layer<A, E, SqlClient.SqlClient | Ids>
): Layer.Layer<A | SqlClient.SqlClient> =>
  layer.pipe(Layer.provide(Ids.Test), Layer.provideMerge(layerSqlMemory), Layer.orDie)
