/**
 * The CLI tests run `or3-sqlite` as operators do: `node <built>/cli/main.js ...` in a child process,
 * so exit codes, stdout/stderr separation and a second connection on the database file are real.
 * The Nitro test (test/nitro) installs the same build as the package's `dist/`.
 *
 * The build is `src/` transpiled file by file with the project's compiler options
 * (`ts.transpileModule`, the emit `tsc` produces for this `isolatedModules` code, without the type
 * check that `npm run typecheck` does anyway), into `node_modules/.cache` so that the output
 * resolves the package's dependencies. It takes about a second, is keyed by the sources' content,
 * and is shared by the test files (concurrent builders each write a private directory and the first
 * rename wins).
 */
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../..", import.meta.url))

const sources = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : []
  })

/** Builds `src/` once per content and returns the directory of the build (the layout of `dist/`). */
export const buildSources = (): string => {
  const srcDir = Path.join(root, "src")
  const files = sources(srcDir).sort()
  const digest = createHash("sha256")
  for (const file of files) digest.update(file).update(Fs.readFileSync(file))
  const outDir = Path.join(root, "node_modules", ".cache", "or3-sqlite-cli", digest.digest("hex").slice(0, 16))
  if (Fs.existsSync(outDir)) return outDir

  const config = ts.readConfigFile(Path.join(root, "tsconfig.build.json"), ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  // transpileModule cannot see package.json `type`, so it is told the module format directly.
  const options = {
    ...parsed.options,
    module: ts.ModuleKind.ESNext,
    declaration: false,
    sourceMap: false,
    noEmit: false
  }
  const staging = `${outDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  for (const file of files) {
    const output = ts.transpileModule(Fs.readFileSync(file, "utf8"), { compilerOptions: options, fileName: file })
    const target = Path.join(staging, Path.relative(srcDir, file)).replace(/\.ts$/, ".js")
    Fs.mkdirSync(Path.dirname(target), { recursive: true })
    Fs.writeFileSync(target, output.outputText)
  }
  Fs.writeFileSync(Path.join(staging, "package.json"), JSON.stringify({ type: "module" }))
  try {
    Fs.renameSync(staging, outDir)
  } catch {
    // Another test file built the same sources first.
    Fs.rmSync(staging, { recursive: true, force: true })
  }
  return outDir
}

/** Builds `src/` once per content and returns the path of the CLI entry (`cli/main.js`). */
export const buildCli = (): string => Path.join(buildSources(), "cli", "main.js")
