/**
 * Pieces shared by the AuthWorkspaceStore modules: row codecs and the boundary that
 * turns storage failures into defects (the store's error channels list only client errors).
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { WorkspaceRole } from "../../schema/store.js"

/** A SQLite 0/1 column as a boolean. */
export const SqliteBoolean = Schema.transform(Schema.Literal(0, 1), Schema.Boolean, {
  strict: true,
  decode: (n) => n === 1,
  encode: (b) => (b ? 1 : 0)
})

/** Roles by strength: an owner can do what an editor can, an editor what a viewer can. */
const roleRank: Record<WorkspaceRole, number> = { viewer: 1, editor: 2, owner: 3 }

/** The stronger of two roles (the first when they are equal). */
export const higherRole = (a: WorkspaceRole, b: WorkspaceRole): WorkspaceRole => (roleRank[b] > roleRank[a] ? b : a)

/** Re-exported so the row schemas of the store modules name one literal. */
export { WorkspaceRole }

type StorageError = SqlError | ParseResult.ParseError

const isStorageError = (error: unknown): error is StorageError =>
  error instanceof SqlError || ParseResult.isParseError(error)

/**
 * The service boundary: a failed statement or an undecodable row is a bug or a broken database,
 * not something the caller can act on, so it becomes a defect (and rolls back any transaction it
 * ran in). Client errors pass through unchanged.
 */
export const storageDefects = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.catchIf(self, (error): error is Extract<E, StorageError> => isStorageError(error), Effect.die)
