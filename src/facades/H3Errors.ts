/**
 * How the Promise facades report failures to the OR3 host: errors a client can act on become h3
 * errors with their own status and message; everything else (defects, SQL errors, interruptions)
 * becomes a 500 with a generic message, after the cause has been logged server-side.
 */
import * as Cause from "effect/Cause"
import * as Option from "effect/Option"
import { createError, type H3Error } from "h3"
import {
  type ClientError,
  CursorRegressed,
  Forbidden,
  InvalidInput,
  LastWorkspaceOwner,
  NotFound,
  SnapshotExpired,
  Unauthenticated
} from "../schema/errors.js"

/** The message every unexpected failure gets; the cause is only logged. */
export const INTERNAL_ERROR_MESSAGE = "SQLite provider error"

const clientErrorClasses = [
  InvalidInput,
  Unauthenticated,
  Forbidden,
  NotFound,
  CursorRegressed,
  LastWorkspaceOwner,
  SnapshotExpired
] as const

/** True for the typed errors whose status and message are meant for the client. */
export const isClientError = (error: unknown): error is ClientError =>
  clientErrorClasses.some((errorClass) => error instanceof errorClass)

/** Field names whose values never go to a client (invite token hashes, secrets). */
const SECRET_FIELD = /token|secret|password|hash/i

/** The body `data` of a client error: `code` (the tag) and the error's own fields, minus secrets. */
const publicData = (error: ClientError): Record<string, unknown> => {
  const data: Record<string, unknown> = { code: error._tag }
  for (const [key, value] of Object.entries(error)) {
    if (key === "_tag" || key === "status" || key === "stack" || key === "cause" || SECRET_FIELD.test(key)) continue
    data[key] = value
  }
  // An input error on a secret field must not echo what was sent.
  if (error instanceof InvalidInput && SECRET_FIELD.test(error.field)) delete data.reason
  return data
}

const publicMessage = (error: ClientError): string =>
  error instanceof InvalidInput && SECRET_FIELD.test(error.field) ? `Invalid ${error.field}` : error.message

/** A 500 h3 error with the generic message: no SQL text, no stack, no cause. */
export const internalH3Error = (): H3Error =>
  createError({ statusCode: 500, statusMessage: INTERNAL_ERROR_MESSAGE, message: INTERNAL_ERROR_MESSAGE })

/** An h3 error with an explicit status and message (for facade-level checks such as unknown actions). */
export const h3Error = (statusCode: number, message: string, data?: Record<string, unknown>): H3Error =>
  createError({ statusCode, statusMessage: message, message, ...(data === undefined ? {} : { data }) })

/**
 * Maps one error value: a client error keeps its status, message and (non-secret) fields; an h3
 * error passes through; anything else is a generic 500.
 */
export const toH3Error = (error: unknown): H3Error => {
  if (isClientError(error)) {
    const message = publicMessage(error)
    return createError({ statusCode: error.status, statusMessage: message, message, data: publicData(error) })
  }
  if (isH3Error(error)) return error
  return internalH3Error()
}

/** Maps the cause of a failed facade program: its first typed failure if any, else a 500. */
export const causeToH3Error = (cause: Cause.Cause<unknown>): H3Error =>
  Option.match(Cause.failureOption(cause), { onNone: internalH3Error, onSome: toH3Error })

/** True when a failed program should be logged as a server fault (not a client's mistake). */
export const isServerFault = (cause: Cause.Cause<unknown>): boolean =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => true,
    onSome: (error) => !isClientError(error) && !isH3Error(error)
  })

/** h3's own check, without importing h3's class (hosts may carry another h3 copy). */
export const isH3Error = (error: unknown): error is H3Error =>
  typeof error === "object" &&
  error !== null &&
  (error.constructor as { __h3_error__?: unknown } | undefined)?.__h3_error__ === true
