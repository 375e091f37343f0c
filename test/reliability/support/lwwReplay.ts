/**
 * The reference the reliability suite holds the database to: replaying a workspace's change log in
 * version order by last-writer-wins must give exactly the materialized rows and tombstones.
 *
 * Written independently of `src/services/sync/revision.ts` on purpose, from the rule alone
 * (contract 1 and 3.1, docs/sync.md invariants 3-4):
 * - revisions compare by clock numerically, then hlc, then opId, both in code-point order;
 * - an incoming op wins only when strictly greater: an exact tie keeps the current state;
 * - the current state of a key is its row's revision, or its tombstone's when there is no row;
 * - a winning put writes the row (live, its payload, its owner);
 * - a winning delete soft-deletes the row if there is one (payload and owner kept) and writes the
 *   key's tombstone; losers change nothing, but every op keeps its log entry.
 */

/** A change-log row, as stored. */
export interface LogEntry {
  readonly workspace_id: string
  readonly server_version: number
  readonly table_name: string
  readonly pk: string
  readonly op: string
  readonly payload_json: string | null
  readonly clock: number
  readonly hlc: string
  readonly device_id: string
  readonly op_id: string
  readonly owner_user_id: string | null
  readonly prior_version: number
}

/** A materialized `s_*` row, in the columns the replay decides. */
export interface RowImage {
  readonly table_name: string
  readonly pk: string
  readonly data_json: string
  readonly clock: number
  readonly hlc: string
  readonly op_id: string
  readonly device_id: string
  readonly server_version: number
  readonly deleted: number
  readonly owner_user_id: string | null
}

/** A `tombstones` row, in the columns the replay decides. */
export interface TombImage {
  readonly table_name: string
  readonly pk: string
  readonly clock: number
  readonly hlc: string
  readonly op_id: string
  readonly server_version: number
  readonly owner_user_id: string | null
}

interface Rev {
  readonly clock: number
  readonly hlc: string
  readonly op_id: string
}

/** Code-point order, spelled out: JS `<` compares UTF-16 units, which differs past U+FFFF. */
export const compareCodePoints = (a: string, b: string): number => {
  if (a === b) return 0
  const x = Array.from(a, (ch) => ch.codePointAt(0)!)
  const y = Array.from(b, (ch) => ch.codePointAt(0)!)
  const n = Math.min(x.length, y.length)
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1
}

export const compareRev = (a: Rev, b: Rev): number =>
  a.clock !== b.clock ? (a.clock < b.clock ? -1 : 1) : compareCodePoints(a.hlc, b.hlc) || compareCodePoints(a.op_id, b.op_id)

export const keyOf = (tableName: string, pk: string) => `${tableName}\u0000${pk}`

export interface Replayed {
  readonly rows: Map<string, RowImage>
  readonly tombs: Map<string, TombImage>
  /** Entries whose `prior_version` is not the version of the key's winner before them. */
  readonly priorMismatches: Array<string>
}

/** Replays one workspace's entries (ascending versions) from an empty state. */
export const replay = (entries: Iterable<LogEntry>, into?: Replayed): Replayed => {
  const state: Replayed = into ?? { rows: new Map(), tombs: new Map(), priorMismatches: [] }
  const { rows, tombs } = state
  for (const e of entries) {
    const key = keyOf(e.table_name, e.pk)
    const row = rows.get(key)
    const current: (Rev & { server_version: number }) | undefined = row ?? tombs.get(key)
    if (e.prior_version !== (current?.server_version ?? 0)) {
      state.priorMismatches.push(
        `v${e.server_version} ${e.table_name}/${e.pk}: prior_version ${e.prior_version}, expected ${current?.server_version ?? 0}`
      )
    }
    if (current !== undefined && compareRev(e, current) <= 0) continue
    const rev = { clock: e.clock, hlc: e.hlc, op_id: e.op_id, server_version: e.server_version }
    if (e.op === "put") {
      rows.set(key, {
        table_name: e.table_name,
        pk: e.pk,
        data_json: e.payload_json ?? "<missing payload>",
        device_id: e.device_id,
        deleted: 0,
        owner_user_id: e.owner_user_id,
        ...rev
      })
    } else {
      if (row !== undefined) rows.set(key, { ...row, ...rev, device_id: e.device_id, deleted: 1 })
      tombs.set(key, { table_name: e.table_name, pk: e.pk, owner_user_id: e.owner_user_id, ...rev })
    }
  }
  return state
}

const rowFields = ["data_json", "clock", "hlc", "op_id", "device_id", "server_version", "deleted", "owner_user_id"] as const
const tombFields = ["clock", "hlc", "op_id", "server_version", "owner_user_id"] as const

const diffImages = <A extends { table_name: string; pk: string; server_version: number }>(
  what: string,
  fields: ReadonlyArray<keyof A>,
  expected: ReadonlyMap<string, A>,
  actual: ReadonlyArray<A>,
  out: Array<string>
) => {
  const seen = new Set<string>()
  for (const a of actual) {
    const key = keyOf(a.table_name, a.pk)
    seen.add(key)
    const e = expected.get(key)
    if (e === undefined) {
      out.push(`${what} ${a.table_name}/${a.pk}: present, but no op in the log makes it`)
      continue
    }
    for (const field of fields) {
      if (e[field] !== a[field]) {
        out.push(`${what} ${a.table_name}/${a.pk}.${String(field)}: ${JSON.stringify(a[field])}, replay gives ${JSON.stringify(e[field])}`)
      }
    }
  }
  for (const [key, e] of expected) {
    if (!seen.has(key)) out.push(`${what} ${e.table_name}/${e.pk}: missing, the replay has it (v${e.server_version})`)
  }
}

/** Every difference between a replay and the stored images (empty = they agree exactly). */
export const diffMaterialized = (
  expected: Replayed,
  rows: ReadonlyArray<RowImage>,
  tombs: ReadonlyArray<TombImage>
): Array<string> => {
  const out: Array<string> = [...expected.priorMismatches]
  diffImages("row", rowFields, expected.rows, rows, out)
  diffImages("tombstone", tombFields, expected.tombs, tombs, out)
  return out
}
