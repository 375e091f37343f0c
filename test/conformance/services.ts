/**
 * The services under conformance: SyncGateway and AuthWorkspaceStore with sequential ids over a
 * migrated SqlClient that the caller supplies (better-sqlite3, libSQL, ...). The SqlClient layer is
 * built afresh for each test, so every test starts on an empty database.
 */
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import * as Migrations from "../../src/layers/Migrations.js"
import { AuthWorkspaceStore } from "../../src/services/AuthWorkspaceStore.js"
import { Ids } from "../../src/services/Ids.js"
import { SyncGateway } from "../../src/services/SyncGateway.js"

export type Services = SyncGateway | AuthWorkspaceStore | SqlClient.SqlClient

export type SqlLayer = Layer.Layer<SqlClient.SqlClient, unknown>

export const servicesOver = (sql: SqlLayer): Layer.Layer<Services> =>
  Layer.mergeAll(SyncGateway.DefaultWithoutDependencies, AuthWorkspaceStore.DefaultWithoutDependencies).pipe(
    Layer.provide(Ids.Test),
    Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(sql))),
    Layer.orDie
  )
