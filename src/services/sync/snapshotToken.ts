/**
 * The snapshot page token: which chain, and the last key of the previous page. It is opaque to the
 * client and binary inside, so that any pk fits: a pk of 1024 UTF-16 units (the host's maximum,
 * lone surrogates and NULs included) is stored as its raw units, and the whole token stays under
 * the host's 4096-character limit (base64url of at most 1 + 1 + 255 + 1 + 128 + 2048 bytes).
 *
 * Layout: version byte 1, snapshot id (length byte + UTF-8), table name (length byte + UTF-8),
 * then the pk as UTF-16LE code units up to the end.
 */
import * as Option from "effect/Option"
import { Limits } from "../../schema/limits.js"

export interface PagePosition {
  readonly snapshotId: string
  readonly tableName: string
  readonly pk: string
}

const VERSION = 1
const base64url = /^[A-Za-z0-9_-]+$/

export const encodeToken = (position: PagePosition): string => {
  const id = Buffer.from(position.snapshotId, "utf8")
  const table = Buffer.from(position.tableName, "utf8")
  const pk = Buffer.alloc(position.pk.length * 2)
  for (let i = 0; i < position.pk.length; i++) pk.writeUInt16LE(position.pk.charCodeAt(i), i * 2)
  return Buffer.concat([Buffer.from([VERSION, id.length]), id, Buffer.from([table.length]), table, pk])
    .toString("base64url")
}

/** The position a token names, or none when it is not a token this module wrote. */
export const decodeToken = (token: string): Option.Option<PagePosition> => {
  if (!base64url.test(token) || token.length > Limits.maxPageTokenLength) return Option.none()
  const bytes = Buffer.from(token, "base64url")
  if (bytes.toString("base64url") !== token || bytes.length < 2 || bytes[0] !== VERSION) return Option.none()
  const idEnd = 2 + bytes[1]
  if (bytes[1] === 0 || bytes.length < idEnd + 1) return Option.none()
  const tableEnd = idEnd + 1 + bytes[idEnd]
  const pkBytes = bytes.length - tableEnd
  if (bytes[idEnd] === 0 || pkBytes < 2 || pkBytes % 2 !== 0 || pkBytes / 2 > Limits.maxPkLength) {
    return Option.none()
  }
  const units: Array<number> = new Array(pkBytes / 2)
  for (let i = 0; i < units.length; i++) units[i] = bytes.readUInt16LE(tableEnd + i * 2)
  return Option.some({
    snapshotId: bytes.toString("utf8", 2, idEnd),
    tableName: bytes.toString("utf8", idEnd + 1, tableEnd),
    pk: String.fromCharCode(...units)
  })
}
