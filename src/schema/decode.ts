/**
 * Decoding of untrusted input: a Schema failure becomes `InvalidInput` naming the first bad field.
 */
import { Effect, ParseResult, Schema } from "effect"
import { InvalidInput } from "./errors.js"

/** The first issue of a parse error, as `{ field, reason }` (`field` is the dotted path). */
export const describeParseError = (error: ParseResult.ParseError, root: string) => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  const field = issue && issue.path.length > 0 ? [root, ...issue.path.map(String)].join(".") : root
  return { field, reason: issue?.message ?? "is invalid" }
}

/** `Schema.decodeUnknown` that fails with `InvalidInput`; `root` names the argument in messages. */
export const decodeInput = <A, I>(schema: Schema.Schema<A, I, never>, root: string) => {
  const decode = Schema.decodeUnknown(schema, { errors: "first", onExcessProperty: "ignore" })
  return (input: unknown): Effect.Effect<A, InvalidInput> =>
    Effect.mapError(decode(input), (error) => new InvalidInput(describeParseError(error, root)))
}
