/**
 * A minimal Nitro app with this package installed as an OR3 app has it, built and served the way
 * production runs the OR3 host (test/nitro/production.test.ts). The app's sources are the stand-ins
 * in test/nitro/app; its node_modules holds a copy of the built package (as `npm install` leaves
 * it) and links to this repository's dependencies (better-sqlite3 among them), so Nitro bundles
 * the package and keeps its dependencies external, exactly as for the host.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { builtDist } from "../support/distBuild.js"

const repo = fileURLToPath(new URL("../..", import.meta.url))

export interface Exited {
  readonly code: number | null
  /** stdout and stderr, interleaved as they came. */
  readonly output: string
}

/** The environment of a production process: this one without test-runner markers or OR3_SQLITE_*. */
export const productionEnv = (variables: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("OR3_SQLITE_") || name.startsWith("VITEST") || name === "NODE_OPTIONS") continue
    env[name] = value
  }
  return { ...env, NODE_ENV: "production", ...variables }
}

const spawnNode = (args: ReadonlyArray<string>, options: { cwd: string; env: NodeJS.ProcessEnv }) => {
  const child = ChildProcess.spawn(process.execPath, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const exited = new Promise<Exited>((resolve) => child.on("close", (code) => resolve({ code, output })))
  return { child, output: () => output, exited }
}

/**
 * Writes the app into `root`: the stand-in sources, and node_modules with a copy of the package
 * (its package.json and `npm run build`'s dist/) next to links to every installed dependency.
 */
export const writeApp = async (root: string): Promise<void> => {
  Fs.cpSync(Path.join(repo, "test", "nitro", "app"), root, { recursive: true })
  const modules = Path.join(root, "node_modules")
  const pkg = Path.join(modules, "or3-provider-sqlite")
  Fs.mkdirSync(pkg, { recursive: true })
  Fs.copyFileSync(Path.join(repo, "package.json"), Path.join(pkg, "package.json"))
  Fs.cpSync(await builtDist(), Path.join(pkg, "dist"), { recursive: true })
  for (const entry of Fs.readdirSync(Path.join(repo, "node_modules"))) {
    if (entry === "or3-provider-sqlite") continue
    Fs.symlinkSync(Path.join(repo, "node_modules", entry), Path.join(modules, entry))
  }
}

/** `nuxt build`'s part: prerender, then the node-server bundle in `<root>/.output`. */
export const buildApp = (root: string, variables: Record<string, string>): Promise<Exited> =>
  spawnNode([Path.join(root, "build.mjs")], { cwd: root, env: productionEnv(variables) }).exited

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

export interface RunningServer {
  readonly url: string
  readonly output: () => string
  /** SIGTERM (Nitro's graceful shutdown runs the close hooks), then the exit. */
  readonly stop: () => Promise<Exited>
}

/** `node <output>/server/index.mjs` on a free loopback port, resolved once it listens. */
export const startServer = async (
  output: string,
  options: { readonly cwd: string; readonly variables: Record<string, string> }
): Promise<RunningServer> => {
  const port = await freePort()
  const server = spawnNode([Path.join(output, "server", "index.mjs")], {
    cwd: options.cwd,
    env: productionEnv({ ...options.variables, HOST: "127.0.0.1", PORT: String(port) })
  })
  const stop = () => {
    server.child.kill("SIGTERM")
    return server.exited
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      server.child.kill("SIGKILL")
      reject(new Error(`the server did not listen within 60 s:\n${server.output()}`))
    }, 60_000)
    server.child.stdout.on("data", () => {
      if (server.output().includes("Listening on")) clearTimeout(timer), resolve()
    })
    void server.exited.then((exit) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${exit.code}):\n${exit.output}`))
    })
  })
  return { url: `http://127.0.0.1:${port}`, output: server.output, stop }
}
