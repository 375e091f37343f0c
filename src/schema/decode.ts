/**
 * Decoding of untrusted input: a Schema failure becomes `InvalidInput` naming the first bad field.
 *
 * Messages never carry more than a preview of the offending value. Effect's formatter prints the
 * whole value, recursively: a 250 KB value made a 250 KB message, and one nested a few thousand
 * levels overflowed the stack (a 500 for the whole request instead of one refused op).
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidInput } from "./errors.js"

/** Characters of a reason kept (a custom message could still quote a value at length). */
const MAX_REASON_LENGTH = 300

/** Characters of a value shown in a message. */
const MAX_PREVIEW_LENGTH = 60

/** Levels of a value shown in a message. */
const MAX_PREVIEW_DEPTH = 2

/**
 * `value` as compact JSON when that takes at most `budget.left` characters and `depth` levels,
 * else undefined. Stops at the first child that does not fit, so a wide or deep value costs no
 * more than a small one.
 */
const compactJson = (value: unknown, depth: number, budget: { left: number }): string | undefined => {
  let text: string
  if (typeof value === "string") {
    if (value.length > budget.left) return undefined
    text = JSON.stringify(value)
  } else if (typeof value !== "object" || value === null) {
    text = String(value)
  } else if (depth === 0) {
    return undefined
  } else if (Array.isArray(value)) {
    const items: Array<string> = []
    for (let i = 0; i < value.length; i++) {
      const item = compactJson(value[i], depth - 1, budget)
      if (item === undefined) return undefined
      items.push(item)
    }
    text = `[${items.join(",")}]`
  } else {
    const entries: Array<string> = []
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      const item = compactJson((value as Record<string, unknown>)[key], depth - 1, budget)
      if (item === undefined || key.length > budget.left) return undefined
      entries.push(`${JSON.stringify(key)}:${item}`)
    }
    text = `{${entries.join(",")}}`
  }
  budget.left -= text.length
  return budget.left >= 0 ? text : undefined
}

/** A short description of a bad value: the value itself when small, else its kind and size. */
export const previewValue = (value: unknown): string => {
  const small = compactJson(value, MAX_PREVIEW_DEPTH, { left: MAX_PREVIEW_LENGTH })
  if (small !== undefined) return small
  if (typeof value === "string") return `${JSON.stringify(value.slice(0, MAX_PREVIEW_LENGTH))}... (${value.length} characters)`
  if (Array.isArray(value)) return `an array of ${value.length} items`
  let keys = 0
  for (const key in value as object) if (Object.hasOwn(value as object, key)) keys++
  return `an object with ${keys} keys`
}

/** Formats as its preview: effect's formatter prints an object with its own `toString` that way. */
class Preview {
  constructor(readonly value: unknown) {}
  toString() {
    return previewValue(this.value)
  }
}

/**
 * The issue with each offending value replaced by its preview. The walk follows the issue tree,
 * whose depth is the schema's, never the value's.
 */
const withPreviews = (issue: ParseResult.ParseIssue): ParseResult.ParseIssue => {
  switch (issue._tag) {
    case "Type":
      return new ParseResult.Type(issue.ast, new Preview(issue.actual), issue.message)
    case "Pointer":
      return new ParseResult.Pointer(issue.path, issue.actual, withPreviews(issue.issue))
    case "Refinement":
      return new ParseResult.Refinement(issue.ast, issue.actual, issue.kind, withPreviews(issue.issue))
    case "Transformation":
      return new ParseResult.Transformation(issue.ast, issue.actual, issue.kind, withPreviews(issue.issue))
    case "Composite": {
      const issues = Array.isArray(issue.issues)
        ? (issue.issues.map(withPreviews) as unknown as ParseResult.SingleOrNonEmpty<ParseResult.ParseIssue>)
        : withPreviews(issue.issues as ParseResult.ParseIssue)
      return new ParseResult.Composite(issue.ast, issue.actual, issues, issue.output)
    }
    default:
      return issue
  }
}

/**
 * The first issue of a parse error: where (`path`) and what (`message`, at most 300 characters,
 * quoting at most a preview of the value).
 */
export const firstIssue = (error: ParseResult.ParseError): { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } => {
  let issue: ParseResult.ArrayFormatterIssue | undefined
  try {
    issue = ParseResult.ArrayFormatter.formatIssueSync(withPreviews(error.issue))[0]
  } catch {
    // A custom message annotation that throws: the op is still refused, just less precisely.
    return { path: [], message: "is invalid" }
  }
  const message = issue?.message ?? "is invalid"
  return {
    path: issue?.path ?? [],
    message: message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH)}...` : message
  }
}

/** The first issue of a parse error, as `{ field, reason }` (`field` is the dotted path under `root`). */
export const describeParseError = (error: ParseResult.ParseError, root: string) => {
  const { message, path } = firstIssue(error)
  return { field: [root, ...path.map(String)].join("."), reason: message }
}

/**
 * Decodes `input` with `schema`, failing with `InvalidInput`; `root` names the argument in messages.
 * The decode runs synchronously when the function is called (every schema here is synchronous):
 * through `Schema.decodeUnknown`, as an Effect, a small request cost ~5 us, against ~1 us here, on
 * every call of every method.
 */
export const decodeInput = <A, I>(schema: Schema.Schema<A, I, never>, root: string) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "ignore" })
  return (input: unknown): Effect.Effect<A, InvalidInput> => {
    const result = decode(input)
    return Either.isRight(result)
      ? Effect.succeed(result.right)
      : Effect.fail(new InvalidInput(describeParseError(result.left, root)))
  }
}
