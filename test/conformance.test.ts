/**
 * One conformance suite, run against every SqlClient the package supports: better-sqlite3 in
 * memory, and libSQL on a local `file:` database (a temp file per test).
 */
import { describe } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Path from "node:path"
import * as Libsql from "../src/layers/Libsql.js"
import * as Sqlite from "../src/layers/Sqlite.js"
import { registerStoreConformance } from "./conformance/store.js"
import { registerSyncConformance } from "./conformance/sync.js"
import { tempDir } from "./helpers/foundation.js"

const drivers = {
  "better-sqlite3 (:memory:)": Sqlite.layerMemory,
  "libsql (file:)": Layer.unwrapScoped(Effect.map(tempDir, (dir) => Libsql.layerUrl(`file:${Path.join(dir, "db.sqlite")}`)))
}

for (const [name, layer] of Object.entries(drivers)) {
  describe(`conformance on ${name}`, () => {
    describe("SyncGateway", () => registerSyncConformance(layer))
    describe("AuthWorkspaceStore", () => registerStoreConformance(layer))
  })
}
