/**
 * The errors a caller can act on. Each carries the data needed to recover and the HTTP status the
 * OR3 host should answer with (`status`); the Promise facades turn them into h3 errors.
 */
import * as Schema from "effect/Schema"

/** A request argument is malformed or out of range (400). */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  field: Schema.String,
  reason: Schema.String
}) {
  readonly status = 400
  override get message() {
    return `Invalid ${this.field}: ${this.reason}`
  }
}

/** No authenticated user where one is required (401). */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  action: Schema.String
}) {
  readonly status = 401
  override get message() {
    return `Authentication required to ${this.action}`
  }
}

/** The user may not do this in this workspace (403). */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  userId: Schema.NullOr(Schema.String),
  workspaceId: Schema.String,
  action: Schema.String,
  reason: Schema.String
}) {
  readonly status = 403
  override get message() {
    return `Forbidden: ${this.reason}`
  }
}

/** The entity does not exist or was deleted (404). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  entity: Schema.String,
  id: Schema.String
}) {
  readonly status = 404
  override get message() {
    return `${this.entity} not found: ${this.id}`
  }
}

/** A device cursor may only move forward (409); `current` is kept. */
export class CursorRegressed extends Schema.TaggedError<CursorRegressed>()("CursorRegressed", {
  deviceId: Schema.String,
  current: Schema.Number,
  requested: Schema.Number
}) {
  readonly status = 409
  override get message() {
    return `Device cursor cannot regress: ${this.deviceId} is at ${this.current}, got ${this.requested}`
  }
}

/**
 * A change would leave a workspace without an owner (409). The message names "last workspace
 * owner": newer OR3 hosts map a store error by that text, older ones pass the status through.
 */
export class LastWorkspaceOwner extends Schema.TaggedError<LastWorkspaceOwner>()("LastWorkspaceOwner", {
  workspaceId: Schema.String,
  userId: Schema.String,
  change: Schema.Literal("demote", "remove")
}) {
  readonly status = 409
  override get message() {
    return `Cannot ${this.change} the last workspace owner. Transfer ownership first.`
  }
}

/** The snapshot chain expired or was never issued (410): start a new snapshot. */
export class SnapshotExpired extends Schema.TaggedError<SnapshotExpired>()("SnapshotExpired", {
  snapshotId: Schema.String
}) {
  readonly status = 410
  override get message() {
    return `Snapshot expired or unavailable: ${this.snapshotId}`
  }
}

/** Errors the facades map to 4xx responses. */
export type ClientError =
  | InvalidInput
  | Unauthenticated
  | Forbidden
  | NotFound
  | CursorRegressed
  | LastWorkspaceOwner
  | SnapshotExpired

/** Start-up configuration is wrong; `variable` names what the operator should set. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  variable: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.variable}: ${this.reason}`
  }
}

/** A migration failed; the database was left at its previous schema. */
export class MigrationFailed extends Schema.TaggedError<MigrationFailed>()("MigrationFailed", {
  migration: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `Migration ${this.migration} failed; the database was left unchanged: ${String(
      (this.cause as { message?: unknown })?.message ?? this.cause
    )}`
  }
}

/** The database was migrated by a newer version of this package. */
export class SchemaTooNew extends Schema.TaggedError<SchemaTooNew>()("SchemaTooNew", {
  unknownMigrations: Schema.Array(Schema.String)
}) {
  override get message() {
    return `The database was migrated by a newer or3-provider-sqlite (${this.unknownMigrations.join(
      ", "
    )}); use that release or a later one: migrations only roll forward`
  }
}
