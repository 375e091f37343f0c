/**
 * When the checkpoint worker cannot find the better-sqlite3 this process loaded, the database
 * still opens: one warning, and checkpoints stay with SQLite's auto-checkpoint at its default mark.
 * The mock gives src/ a subclass of the real driver: the connection opens with it, and
 * Checkpointer's lookup (the module whose export is that constructor) finds nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { vi } from "vitest"
import { driverPath } from "../src/layers/Checkpointer.js"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { SqliteInfo } from "../src/layers/Sqlite.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { captureWarnings } from "./support/logs.js"
import { put } from "./support/ops.js"

// src/ sees a driver that works but is not the export in Node's module cache.
vi.mock("better-sqlite3", async (importOriginal) => {
  const loaded = ((await importOriginal()) as { default: new(...args: Array<any>) => object }).default
  return { default: class NotTheLoadedDriver extends loaded {} }
})

describe("background checkpoints without a driver file", () => {
  it.live("the database opens with one warning and SQLite's own auto-checkpoint", () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-checkpoint-"))
    const { layer, logs } = captureWarnings()
    return Effect.gen(function*() {
      assert.isUndefined(driverPath())
      const info = yield* SqliteInfo
      assert.isFalse(info.settings.backgroundCheckpoint)
      const sql = yield* SqlClient.SqlClient
      const [{ wal_autocheckpoint }] = yield* sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`
      assert.strictEqual(wal_autocheckpoint, 1000)
      const gateway = yield* SyncGateway
      const pushed = yield* gateway.push({ scope: { workspaceId: "ws" }, ops: [put({ pk: "k" })] }, { userId: "u" })
      assert.isTrue(pushed.results[0].success)
      assert.deepStrictEqual(logs, [
        `Background checkpoints are off (better-sqlite3 is not in Node's module cache); SQLite's own auto-checkpoint moves the WAL into ${Path.join(dir, "db.sqlite")}`
      ])
    }).pipe(
      Effect.provide(SyncGateway.Default.pipe(Layer.provideMerge(layerSqlFile(Path.join(dir, "db.sqlite"))))),
      Effect.provide(layer),
      Effect.ensuring(Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
    )
  })
})
