/**
 * The host's limits (OR3 `shared/sync/schemas.ts` and `sanitize.ts`), in one place. Schemas, SQL
 * helpers, the facades and the docs all read these; nothing restates a number.
 */
export const Limits = {
  /** Ops in one push (`MAX_SYNC_PUSH_BATCH_OPS`). */
  maxPushOps: 100,
  /** JSON bytes of one push body (`MAX_SYNC_PUSH_BATCH_BYTES`). */
  maxPushBytes: 2 * 1024 * 1024,
  /** UTF-8 JSON bytes of one op payload (`MAX_SYNC_PAYLOAD_BYTES`). */
  maxPayloadBytes: 256 * 1024,
  /**
   * Nesting depth of an op payload. Not a host limit: a deeper payload could overflow the stack of
   * whoever serializes or parses it later (a pull serving it to every device), so it is refused.
   */
  maxPayloadDepth: 100,
  /** JSON bytes of a pull body (the host reads at most 8 KiB). */
  maxPullBytes: 8 * 1024,
  /** Pull `limit` and snapshot `pageSize` range. */
  minPageSize: 1,
  maxPageSize: 1000,
  /** Entries in a `tables` filter, and the length of one table name. */
  maxTableFilter: 50,
  maxTableNameLength: 128,
  /** Length of ids (workspace, device, op row id) and of an hlc, a pk and a snapshot token. */
  maxIdentifierLength: 256,
  maxHlcLength: 512,
  maxPkLength: 1024,
  maxPageTokenLength: 4096,
  /** Workspace name and description lengths (the workspace endpoints' rules). */
  maxWorkspaceNameLength: 100,
  maxWorkspaceDescriptionLength: 1000,
  /** GC retention window, seconds (`MIN/MAX_SYNC_RETENTION_SECONDS`). */
  minRetentionSeconds: 3600,
  maxRetentionSeconds: 31_536_000,
  /** Rows one GC statement deletes (`MAX_SYNC_GC_BATCH_SIZE`). */
  gcBatchSize: 1000,
  /** Invite listing limit range and default. */
  minInviteListLimit: 1,
  maxInviteListLimit: 500,
  defaultInviteListLimit: 100,
  /** Admin workspace listing: page size range and default (the host's route clamps the same way). */
  minAdminPageSize: 1,
  maxAdminPageSize: 100,
  defaultAdminPageSize: 20,
  /** Highest page of the admin workspace listing; keeps the SQL offset a small integer. */
  maxAdminPage: 1_000_000,
  /** Admin user search: result count range and default. */
  minUserSearchLimit: 1,
  maxUserSearchLimit: 100,
  defaultUserSearchLimit: 20,
  /** Length of an admin search text (workspace listing, user search). */
  maxSearchLength: 256,
  /** Length of an e-mail address. */
  maxEmailLength: 320,
  /** Length of a workspace setting key, and of its value (values are often JSON). */
  maxSettingKeyLength: 512,
  maxSettingValueLength: 1024 * 1024,
  /** Lifetime of a snapshot chain, seconds. */
  snapshotTtlSeconds: 3600,
  /**
   * The latest invite expiry accepted, epoch seconds (9999-12-31T23:59:59Z). The host passes
   * seconds; a time in milliseconds is far above this and is refused instead of read as seconds.
   */
  maxEpochSeconds: 253_402_300_799
} as const

/**
 * A count or page number from the host, clamped as its routes clamp: an integer in `min..max`,
 * fractions floored; `fallback` when absent or NaN (the host passes `parseInt` of a non-numeric
 * query on as NaN). An infinite value is clamped to a bound (`listInvites`), or with `infinite:
 * "fallback"` read as absent (the admin stores): each store's tests pin its reading.
 */
export const clampInt = (
  value: number | null | undefined,
  min: number,
  max: number,
  fallback: number,
  infinite: "clamp" | "fallback" = "clamp"
): number =>
  value === null || value === undefined || Number.isNaN(value) || (infinite === "fallback" && !Number.isFinite(value))
    ? fallback
    : Math.min(max, Math.max(min, Math.floor(value)))
