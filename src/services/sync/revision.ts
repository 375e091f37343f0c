/**
 * Revision order for last-writer-wins (the host's `compareSyncRevision`): clock numerically, then
 * hlc, then opId, both as strings in code-point order. SQLite's BINARY collation compares UTF-8
 * bytes, which is the same code-point order, so SQL and JS agree on every key.
 */
export interface Revision {
  readonly clock: number
  readonly hlc: string
  readonly opId: string
}

/** Code-point order of two strings (JS `<` compares UTF-16 units, which differs for astral characters). */
export const compareText = (a: string, b: string): number => {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x !== y) {
      // Surrogates (code points >= U+10000) sort after U+E000..U+FFFF in code-point order.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000
      }
      return x < y ? -1 : 1
    }
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1
}

export const compareRevision = (a: Revision, b: Revision): number =>
  a.clock !== b.clock ? (a.clock < b.clock ? -1 : 1) : compareText(a.hlc, b.hlc) || compareText(a.opId, b.opId)

/** True only when `incoming` is strictly newer: on an exact tie the current state stays. */
export const outranks = (incoming: Revision, current: Revision | undefined): boolean =>
  current === undefined || compareRevision(incoming, current) > 0
