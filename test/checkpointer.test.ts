import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { driverPath, startCheckpointer } from "../src/layers/Checkpointer.js"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { checkpointedRows } from "./support/checkpointed.js"
import { captureWarnings } from "./support/logs.js"
import { put } from "./support/ops.js"

/** Pushes 50 ops, then waits up to 2 s for them to reach the main file; no warning may appear. */
const pushThenWait = (path: string, backgroundCheckpoint: boolean) => {
  const { layer, logs } = captureWarnings()
  return Effect.gen(function*() {
    const gateway = yield* SyncGateway
    yield* gateway.push({ scope: { workspaceId: "ws" }, ops: Array.from({ length: 50 }, (_, i) => put({ pk: `k${i}` })) }, {
      userId: "u"
    })
    let rows = checkpointedRows(path)
    for (let i = 0; i < 100 && rows < 50; i++) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
      rows = checkpointedRows(path)
    }
    assert.deepStrictEqual(logs, [])
    return rows
  }).pipe(
    Effect.provide(SyncGateway.Default.pipe(Layer.provideMerge(layerSqlFile(path, { backgroundCheckpoint })))),
    Effect.provide(layer)
  )
}

describe("background checkpoints", () => {
  it.live("move committed pushes into the database file without a writer checkpointing", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-checkpoint-"))
      assert.strictEqual(yield* pushThenWait(Path.join(dir, "on.sqlite"), true), 50)
      // Without the worker, a small push stays in the WAL (below the writer's auto-checkpoint mark).
      assert.strictEqual(yield* pushThenWait(Path.join(dir, "off.sqlite"), false), 0)
      Fs.rmSync(dir, { recursive: true, force: true })
    }), 30_000)

  it("the worker loads the better-sqlite3 this process loaded, wherever this module is", () => {
    const loaded = createRequire(import.meta.url).resolve("better-sqlite3")
    assert.strictEqual(driverPath(), loaded)
  })

  it.live("a worker that cannot start: one warning, and the caller is told to leave checkpoints to SQLite", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-checkpoint-"))
      const { logs, layer } = captureWarnings()
      const started = yield* Effect.scoped(
        startCheckpointer({ path: Path.join(dir, "db.sqlite"), driver: Path.join(dir, "no-such-driver.js") })
      ).pipe(Effect.provide(layer))
      assert.isFalse(started)
      assert.strictEqual(logs.length, 1)
      assert.match(logs[0], /^Background checkpoints are off \(Cannot find module .*no-such-driver\.js/)
      Fs.rmSync(dir, { recursive: true, force: true })
    }))
})
