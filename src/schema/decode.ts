/**
 * Decoding of untrusted input: a Schema failure becomes `InvalidInput` naming the first bad field.
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidInput } from "./errors.js"

/** Characters of a reason kept: the formatter quotes the bad value, which may be huge. */
const MAX_REASON_LENGTH = 300

/**
 * The first issue of a parse error, as `{ field, reason }` (`field` is the dotted path). The
 * formatter prints the offending value; a value nested too deep for that (a RangeError) is
 * described without it rather than failing the request.
 */
export const describeParseError = (error: ParseResult.ParseError, root: string) => {
  let issue: ParseResult.ArrayFormatterIssue | undefined
  try {
    issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  } catch {
    return { field: root, reason: "is invalid (nested too deeply to describe)" }
  }
  const field = issue && issue.path.length > 0 ? [root, ...issue.path.map(String)].join(".") : root
  const reason = issue?.message ?? "is invalid"
  return { field, reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}...` : reason }
}

/** `Schema.decodeUnknown` that fails with `InvalidInput`; `root` names the argument in messages. */
export const decodeInput = <A, I>(schema: Schema.Schema<A, I, never>, root: string) => {
  const decode = Schema.decodeUnknown(schema, { errors: "first", onExcessProperty: "ignore" })
  return (input: unknown): Effect.Effect<A, InvalidInput> =>
    Effect.mapError(decode(input), (error) => new InvalidInput(describeParseError(error, root)))
}
