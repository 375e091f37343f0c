/**
 * A small fetch client for the reference host, as an OR3 client would call it: a bearer token,
 * JSON bodies, and the mutation intent header on every write. Used by the demo and the HTTP tests.
 */
import { MUTATION_INTENT_HEADER, MUTATION_INTENT_VALUE } from "./guards.js"

export interface HostResponse<A = unknown> {
  readonly status: number
  readonly headers: Headers
  /** The parsed JSON body; undefined for an empty one. */
  readonly body: A
}

export interface RequestOptions {
  /** A JSON value, or a string sent as it is. */
  readonly body?: unknown
  /** Extra headers; a header set to null is removed from the defaults. */
  readonly headers?: Record<string, string | null>
}

export interface HostClient {
  readonly request: <A = any>(method: string, path: string, options?: RequestOptions) => Promise<HostResponse<A>>
  readonly get: <A = any>(path: string, options?: RequestOptions) => Promise<HostResponse<A>>
  readonly post: <A = any>(path: string, body?: unknown, options?: RequestOptions) => Promise<HostResponse<A>>
}

export const makeHostClient = (baseUrl: string, token?: string): HostClient => {
  const request = async <A>(method: string, path: string, options: RequestOptions = {}): Promise<HostResponse<A>> => {
    const headers: Record<string, string | null> = {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(method === "GET" ? {} : { [MUTATION_INTENT_HEADER]: MUTATION_INTENT_VALUE }),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers
    }
    const sent = Object.fromEntries(
      Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null)
    )
    const body = options.body === undefined || typeof options.body === "string" ? options.body : JSON.stringify(options.body)
    const response = await fetch(new URL(path, baseUrl), { method, headers: sent, body: body as string | undefined })
    const text = await response.text()
    let parsed: unknown = undefined
    if (text !== "") {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
    }
    return { status: response.status, headers: response.headers, body: parsed as A }
  }
  return {
    request,
    get: (path, options) => request("GET", path, options),
    post: (path, body, options) => request("POST", path, { ...options, body })
  }
}
