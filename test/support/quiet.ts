/**
 * Keeping `npm test` quiet. Console output needs nothing: vitest keeps what a test logs through
 * `console` (Effect's default logger included) and prints it only if that test fails (`silent:
 * "passed-only"` in vitest.config.ts). Child processes are quiet when their pipes are read by the
 * test (see `reliability/support/children.ts`, `support/cliRun.ts`). What remains is code that
 * writes to `process.stdout` itself, such as the CLI run in-process: `captureStdout` takes that.
 */
import * as Effect from "effect/Effect"

/**
 * For the scope's lifetime, `process.stdout.write` appends to the returned buffer instead of the
 * terminal (the test can assert on it or put it in a failure message).
 */
export const captureStdout = Effect.acquireRelease(
  Effect.sync(() => {
    const write = process.stdout.write
    const captured = { text: "", restore: () => void (process.stdout.write = write) }
    process.stdout.write = ((chunk: string | Uint8Array) => {
      captured.text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")
      return true
    }) as typeof process.stdout.write
    return captured
  }),
  (captured) => Effect.sync(captured.restore)
)
