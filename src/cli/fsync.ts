/** Flushes a file, or the entries of a folder after a rename, to stable storage. */
import * as Fs from "node:fs"

export const fsync = (path: string) => {
  const fd = Fs.openSync(path, "r")
  try {
    Fs.fsyncSync(fd)
  } finally {
    Fs.closeSync(fd)
  }
}
