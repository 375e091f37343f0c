#!/usr/bin/env node
// Builds the package: `dist/` from `src/` with `tsc -p tsconfig.build.json`, always from an empty
// directory (a file removed from src/ leaves nothing behind in dist/).
//
//   node scripts/build.mjs              clean build (npm run build, npm pack)
//   node scripts/build.mjs --if-stale   the same, unless dist/ was built from exactly these inputs
//                                       (npm start, demo, inspect, bench: no 20-40 s rebuild)
//
// "Exactly these inputs": a successful build writes `dist/.build-stamp.json` with a hash of the
// content of every file under src/, of both tsconfig files, of package.json's `type` and of the
// TypeScript version, and the list of files it emitted. `--if-stale` skips only when the hash is
// the same and every listed file is still there. Content, not mtimes: a checkout of another
// branch, an edit undone, or a deleted source are all seen. No incremental tsc state is kept, so
// nothing can leave an edited file's old output in place. A type error fails the build (tsc still
// emits) and writes no stamp, so the next `--if-stale` builds again.
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(fileURLToPath(import.meta.url), "..", "..")
const args = process.argv.slice(2)
if (args.some((arg) => arg !== "--if-stale")) {
  console.error(`usage: node scripts/build.mjs [--if-stale]; got ${args.join(" ")}`)
  process.exit(2)
}
const ifStale = args.includes("--if-stale")
const outDir = Path.join(root, "dist")
const stampPath = Path.join(outDir, ".build-stamp.json")
const tsc = createRequire(Path.join(root, "package.json")).resolve("typescript/bin/tsc")

const filesUnder = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : [path]
  })

const inputsHash = () => {
  const hash = createHash("sha256")
  const add = (name, content) => hash.update(name).update("\0").update(content).update("\0")
  for (const file of filesUnder(Path.join(root, "src")).sort()) add(Path.relative(root, file), Fs.readFileSync(file))
  for (const name of ["tsconfig.json", "tsconfig.build.json"]) add(name, Fs.readFileSync(Path.join(root, name)))
  add("package.json#type", String(JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8")).type))
  add("typescript", JSON.parse(Fs.readFileSync(Path.join(Path.dirname(tsc), "..", "package.json"), "utf8")).version)
  return hash.digest("hex")
}

const readStamp = () => {
  try {
    return JSON.parse(Fs.readFileSync(stampPath, "utf8"))
  } catch {
    return undefined
  }
}

const inputs = inputsHash()
if (ifStale) {
  const stamp = readStamp()
  if (stamp?.inputs === inputs && stamp.outputs.every((file) => Fs.existsSync(Path.join(outDir, file)))) {
    console.log("dist/ is up to date with src/")
    process.exit(0)
  }
}

console.log("Building dist/ (tsc -p tsconfig.build.json)...")
Fs.rmSync(outDir, { recursive: true, force: true })
const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", outDir], { cwd: root, stdio: "inherit" })
if (result.status !== 0) process.exit(result.status ?? 1)
const outputs = filesUnder(outDir).map((file) => Path.relative(outDir, file)).sort()
Fs.writeFileSync(stampPath, `${JSON.stringify({ inputs, outputs }, null, 1)}\n`)
