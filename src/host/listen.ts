/**
 * Serving an h3 app on the loopback interface. Binding anywhere else is the caller's explicit
 * choice (`hostname`), never a default: the reference host trusts bearer tokens sent in clear.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { type App, toNodeListener } from "h3"

export const LOOPBACK = "127.0.0.1"

export interface ListeningHost {
  readonly server: Server
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Stops accepting connections, closes idle keep-alive ones, and waits for the rest. */
  readonly close: () => Promise<void>
}

export interface ListenOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number
  readonly hostname?: string
}

export const listenReferenceHost = (app: App, options: ListenOptions = {}): Promise<ListeningHost> => {
  const server = createServer(toNodeListener(app))
  const hostname = options.hostname ?? LOOPBACK
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, hostname, () => {
      server.off("error", reject)
      const { port } = server.address() as AddressInfo
      const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname
      let closing: Promise<void> | undefined
      resolve({
        server,
        port,
        url: `http://${urlHost}:${port}`,
        close: () =>
          (closing ??= new Promise<void>((done, fail) => {
            server.close((error) => (error === undefined ? done() : fail(error)))
            server.closeIdleConnections()
          }))
      })
    })
  })
}
