import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { SyncGateway } from "../src/services/SyncGateway.js"
import { checkpointedRows } from "./support/checkpointed.js"
import { put } from "./support/ops.js"

const pushThenWait = (path: string, backgroundCheckpoint: boolean) =>
  Effect.gen(function*() {
    const gateway = yield* SyncGateway
    yield* gateway.push({ scope: { workspaceId: "ws" }, ops: Array.from({ length: 50 }, (_, i) => put({ pk: `k${i}` })) }, {
      userId: "u"
    })
    let rows = checkpointedRows(path)
    for (let i = 0; i < 100 && rows < 50; i++) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
      rows = checkpointedRows(path)
    }
    return rows
  }).pipe(Effect.provide(SyncGateway.Default.pipe(Layer.provideMerge(layerSqlFile(path, { backgroundCheckpoint })))))

describe("background checkpoints", () => {
  it.live("move committed pushes into the database file without a writer checkpointing", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-checkpoint-"))
      assert.strictEqual(yield* pushThenWait(Path.join(dir, "on.sqlite"), true), 50)
      // Without the worker, a small push stays in the WAL (below the writer's auto-checkpoint mark).
      assert.strictEqual(yield* pushThenWait(Path.join(dir, "off.sqlite"), false), 0)
      Fs.rmSync(dir, { recursive: true, force: true })
    }), 30_000)
})
