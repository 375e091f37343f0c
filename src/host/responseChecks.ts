/**
 * The host's checks on what an adapter returns (`PushResultSchema` + `getPushResultContractError`,
 * and the pull and snapshot equivalents, contract 2). A reply that fails them is the provider's
 * bug, not the client's, so the route answers 502 and the client retries later instead of
 * applying a reply that would corrupt its cursor or its copy of the workspace.
 *
 * Each check returns the decoded reply, or the reason it was refused (for the server log).
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { describeParseError } from "../schema/decode.js"
import { Limits } from "../schema/limits.js"
import {
  NonNegativeInt,
  type PendingOp,
  PushResult,
  SnapshotResponse,
  SyncChange,
  type PullRequest,
  type SnapshotRequest
} from "../schema/wire.js"

const decoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "ignore" })
  return (input: unknown): Either.Either<A, string> =>
    Either.mapLeft(decode(input), (error) => {
      const { field, reason } = describeParseError(error, "response")
      return `${field}: ${reason}`
    })
}

const MAX_ITEMS = Limits.maxPageSize

const decodePush = decoder(PushResult)

/** One result per distinct forwarded opId, no duplicates, no version above the response's. */
export const checkPushResult = (ops: ReadonlyArray<PendingOp>, reply: unknown) =>
  Either.flatMap(decodePush(reply), (result) => {
    if (result.results.length > Limits.maxPushOps) return Either.left("too many results")
    const seen = new Set<string>()
    for (const item of result.results) {
      if (seen.has(item.opId)) return Either.left(`duplicate result for ${item.opId}`)
      seen.add(item.opId)
      if (item.serverVersion !== undefined && item.serverVersion > result.serverVersion) {
        return Either.left(`result ${item.opId} is above the response version`)
      }
    }
    const expected = new Set(ops.map((op) => op.stamp.opId))
    if (expected.size !== seen.size || [...expected].some((opId) => !seen.has(opId))) {
      return Either.left("results do not match the batch's opIds")
    }
    return Either.right(result)
  })

/**
 * The newest host schema has no retention fields and would strip them; they are kept optional
 * here and passed through, since clients need `requiresSnapshot` (contract 11.1).
 */
const HostPullResponse = Schema.Struct({
  changes: Schema.Array(SyncChange).pipe(Schema.maxItems(MAX_ITEMS)),
  nextCursor: NonNegativeInt,
  hasMore: Schema.Boolean,
  oldestRetainedVersion: Schema.optional(NonNegativeInt),
  requiresSnapshot: Schema.optional(Schema.Boolean)
})

const decodePull = decoder(HostPullResponse)

/** Changes strictly ascending inside `(cursor, nextCursor]`, distinct opIds, a cursor that never goes back. */
export const checkPullResponse = (request: PullRequest, reply: unknown) =>
  Either.flatMap(decodePull(reply), (response) => {
    const { cursor } = request
    if (response.nextCursor < cursor) return Either.left("nextCursor is behind the request cursor")
    if (response.hasMore && response.nextCursor <= cursor) return Either.left("hasMore without progress")
    const opIds = new Set<string>()
    let previous = cursor
    for (const change of response.changes) {
      if (change.serverVersion <= previous) return Either.left(`change ${change.serverVersion} is out of order`)
      if (change.serverVersion > response.nextCursor) return Either.left(`change ${change.serverVersion} is past nextCursor`)
      if (opIds.has(change.stamp.opId)) return Either.left(`duplicate opId ${change.stamp.opId}`)
      opIds.add(change.stamp.opId)
      previous = change.serverVersion
    }
    return Either.right(response)
  })

const decodeSnapshot = decoder(
  SnapshotResponse.pipe(Schema.filter((page) => page.items.length <= MAX_ITEMS || "too many items"))
)

const itemKey = (item: { tableName: string; pk: string; kind: string }) => `${item.tableName}\0${item.pk}\0${item.kind}`

/** The request's workspace, at most `pageSize` items, strictly ordered, one entry per record. */
export const checkSnapshotResponse = (request: SnapshotRequest, reply: unknown) =>
  Either.flatMap(decodeSnapshot(reply), (page) => {
    if (page.workspaceId !== request.scope.workspaceId) return Either.left("workspaceId differs from the request's")
    if (page.items.length > request.pageSize) return Either.left("more items than pageSize")
    const records = new Set<string>()
    let previous: string | undefined
    for (const item of page.items) {
      const key = itemKey(item)
      if (previous !== undefined && !(previous < key)) return Either.left(`item ${item.tableName}/${item.pk} is out of order`)
      const record = `${item.tableName}\0${item.pk}`
      if (records.has(record)) return Either.left(`two entries for ${item.tableName}/${item.pk}`)
      records.add(record)
      previous = key
    }
    return Either.right(page)
  })
