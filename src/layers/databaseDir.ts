/**
 * Creates the folder of a database file, one level at a time. Node's recursive `mkdirSync` loops
 * forever (at 100% CPU, deaf to SIGTERM) on a path it cannot create under a virtual file system
 * such as `/proc`; here each missing level is one plain `mkdir`, and the first refusal is a
 * `ConfigInvalid` naming the setting.
 */
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ConfigInvalid } from "../schema/errors.js"

export const ensureDatabaseDir = (file: string, variable: string): Effect.Effect<void, ConfigInvalid> =>
  Effect.try({
    try: () => {
      const missing: Array<string> = []
      let dir = Path.dirname(Path.resolve(file))
      while (!Fs.existsSync(dir)) {
        missing.unshift(dir)
        const parent = Path.dirname(dir)
        if (parent === dir) break
        dir = parent
      }
      if (!Fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`)
      for (const level of missing) Fs.mkdirSync(level)
    },
    catch: (error) =>
      new ConfigInvalid({
        variable,
        reason: `cannot create the folder of ${file}: ${(error as Error).message}`
      })
  })
