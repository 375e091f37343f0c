/**
 * CLI output: a redrawn progress line with a bar on a terminal, throttled plain lines otherwise,
 * none of the plain lines with --json, and results as one JSON document on stdout.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as CliOutput from "../src/cli/CliOutput.js"
import { parseRetention } from "../src/cli/retention.js"

const fakeSink = (isTTY: boolean) => {
  const out: Array<string> = []
  const err: Array<string> = []
  let clock = 0
  const sink: CliOutput.Sink = {
    isTTY,
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    now: () => clock
  }
  return { sink, out, err, tick: (ms: number) => void (clock += ms) }
}

describe("progress", () => {
  it.effect("on a terminal: one line redrawn in place, with a bar, then the final line", () =>
    Effect.gen(function*() {
      const fake = fakeSink(true)
      const progress = CliOutput.makeProgress(fake.sink, "gc", false)
      yield* progress.update("ws-1", 0, 4)
      fake.tick(10)
      yield* progress.update("ws-1", 1, 4) // throttled: within 100 ms
      fake.tick(200)
      yield* progress.update("ws-2", 2, 4)
      yield* progress.finish("4 workspace(s) done")
      assert.deepStrictEqual(fake.err, [
        "\r\x1b[2Kgc: ws-1 [------------------------] 0%",
        "\r\x1b[2Kgc: ws-2 [############------------] 50%",
        "\r\x1b[2Kgc: 4 workspace(s) done\n"
      ])
    }))

  it.effect("off a terminal: plain lines at most once a second, and none with --json", () =>
    Effect.gen(function*() {
      const fake = fakeSink(false)
      const progress = CliOutput.makeProgress(fake.sink, "verify", false)
      yield* progress.update("replaying", 10, 100)
      fake.tick(500)
      yield* progress.update("replaying", 20, 100)
      fake.tick(600)
      yield* progress.update("replaying", 30, 100)
      yield* progress.finish("ok")
      assert.deepStrictEqual(fake.err, ["verify: replaying (10/100)\n", "verify: replaying (30/100)\n", "verify: ok\n"])

      const quiet = fakeSink(false)
      const silent = CliOutput.makeProgress(quiet.sink, "verify", true)
      yield* silent.update("replaying", 1, 2)
      yield* silent.finish("ok")
      assert.deepStrictEqual(quiet.err, [])
    }))

  it.effect("results: JSON with --json, the human rendering otherwise, on stdout", () =>
    Effect.gen(function*() {
      const fake = fakeSink(false)
      yield* CliOutput.make({ json: true, sink: fake.sink }).result({ a: 1 }, () => "human")
      yield* CliOutput.make({ json: false, sink: fake.sink }).result({ a: 1 }, () => "human")
      assert.deepStrictEqual(JSON.parse(fake.out[0]), { a: 1 })
      assert.strictEqual(fake.out[1], "human\n")
    }))
})

describe("--retention", () => {
  it.effect("takes seconds or s/m/h/d/w durations inside the host's window", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* parseRetention("3600"), 3600)
      assert.strictEqual(yield* parseRetention("12h"), 43_200)
      assert.strictEqual(yield* parseRetention("30d"), 2_592_000)
      assert.strictEqual(yield* parseRetention("2w"), 1_209_600)
      assert.strictEqual(yield* parseRetention("90m"), 5400)
      assert.strictEqual(yield* parseRetention("365d"), 31_536_000)
      for (const bad of ["59m", "366d", "ten days", "-1d", "1.5d", ""]) {
        const error = yield* Effect.flip(parseRetention(bad))
        assert.strictEqual(error.exitCode, 2, bad)
      }
    }))
})
