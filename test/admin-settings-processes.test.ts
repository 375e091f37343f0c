/**
 * compareAndSet is atomic across processes: this process and a child process (the built package,
 * its own connection) both count one setting up by read-then-compare-and-set. If two writers could
 * both win over the same value, increments would be lost and the counter would fall short. Both
 * start on one signal, and at least one of them must have lost a compare-and-set to the other:
 * otherwise they never overlapped and the test proved nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { layerSqlFile } from "../src/layers/Migrations.js"
import { WorkspaceSettingsStore } from "../src/services/WorkspaceSettingsStore.js"
import { tempDir } from "./helpers/foundation.js"
import { startReadyChild } from "./support/childProcess.js"
import { builtDist } from "./support/distBuild.js"

const INCREMENTS = 150
const script = fileURLToPath(new URL("./fixtures/settings-cas.mjs", import.meta.url))

/** The child, started (the built package, as another server process would load it). */
const startChild = (path: string) =>
  Effect.flatMap(Effect.promise(builtDist), (dist) =>
    startReadyChild<{ succeeded: number; attempts: number }>([script, Path.join(dist, "index.js"), path, String(INCREMENTS)]))

describe("WorkspaceSettingsStore.compareAndSet across processes", () => {
  it.scopedLive("two processes counting one setting up lose no increment", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* tempDir, "cas.sqlite")
      // Built in the test's scope (the connection stays open until the test ends), without start-up logs.
      const context = yield* Layer.build(
        WorkspaceSettingsStore.Default.pipe(
          Layer.provideMerge(layerSqlFile(path)),
          Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)),
          Layer.orDie
        )
      )
      const settings = Context.get(context, WorkspaceSettingsStore)
      const child = yield* startChild(path)
      yield* child.go
      let succeeded = 0
      let attempts = 0
      while (succeeded < INCREMENTS) {
        attempts++
        const current = yield* settings.get("ws", "counter")
        const next = String(current === null ? 1 : Number(current) + 1)
        if (yield* settings.compareAndSet("ws", "counter", current, next)) succeeded++
        // Leave the other process room to interleave.
        yield* Effect.sleep("1 millis")
      }
      const theirs = yield* child.result
      assert.strictEqual(theirs.succeeded, INCREMENTS)
      assert.isAbove(attempts + theirs.attempts, 2 * INCREMENTS, "one side retried: the two processes overlapped")
      assert.strictEqual(yield* settings.get("ws", "counter"), String(2 * INCREMENTS))
    }), 120_000)
})
