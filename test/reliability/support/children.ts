/**
 * Child processes that speak JSON lines on stdout (the bundled `test/reliability/fixtures/`),
 * read line by line as they write (a line is one `write` on a pipe, so a line that arrived whole
 * was written whole; the unterminated tail left by SIGKILL is kept apart and ignored), and killed
 * by their own pid. Every child a test starts is killed when `killAll` runs, so a failed assertion
 * leaves no process behind.
 */
import * as ChildProcess from "node:child_process"

export type Message = { readonly t: string } & Record<string, any>

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Child {
  readonly pid: number
  /** Complete lines so far, parsed, in order. */
  readonly messages: Array<Message>
  readonly stderr: () => string
  /** The text after the last newline when the process ended (a write cut short by SIGKILL). */
  readonly tail: () => string
  readonly exited: Promise<Exit>
  /** Resolves with the first message (past or future) that matches; rejects on exit or timeout. */
  readonly waitFor: (match: (message: Message) => boolean, timeoutMs?: number) => Promise<Message>
  /** SIGKILL (if still running), then waits for the exit. */
  readonly kill: () => Promise<Exit>
}

const running = new Set<ChildProcess.ChildProcess>()

/** Starts `node <script> ...args` (a bundled fixture, see ./build.ts). */
export const spawnNode = (script: string, args: ReadonlyArray<string>): Child => {
  const proc = ChildProcess.spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  running.add(proc)
  const messages: Array<Message> = []
  const waiters = new Set<() => void>()
  let buffer = ""
  let stderr = ""
  let ended = false
  proc.stdout.setEncoding("utf8")
  proc.stdout.on("data", (chunk: string) => {
    buffer += chunk
    let newline = buffer.indexOf("\n")
    while (newline !== -1) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      if (line.trim() !== "") {
        try {
          messages.push(JSON.parse(line))
        } catch {
          messages.push({ t: "garbled", line })
        }
      }
      newline = buffer.indexOf("\n")
    }
    for (const wake of waiters) wake()
  })
  proc.stderr.setEncoding("utf8")
  proc.stderr.on("data", (chunk: string) => (stderr += chunk))
  const exited = new Promise<Exit>((resolve) =>
    proc.on("close", (code, signal) => {
      ended = true
      running.delete(proc)
      for (const wake of waiters) wake()
      resolve({ code, signal })
    })
  )
  const waitFor = (match: (message: Message) => boolean, timeoutMs = 20_000) =>
    new Promise<Message>((resolve, reject) => {
      let checked = 0
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`child ${proc.pid}: timed out after ${timeoutMs} ms; stderr: ${stderr}`))
      }, timeoutMs)
      const check = () => {
        for (; checked < messages.length; checked++) {
          if (match(messages[checked])) {
            clearTimeout(timer)
            waiters.delete(check)
            return resolve(messages[checked])
          }
        }
        if (ended) {
          clearTimeout(timer)
          waiters.delete(check)
          reject(new Error(`child ${proc.pid} exited before the awaited message; stderr: ${stderr}`))
        }
      }
      waiters.add(check)
      check()
    })
  return {
    pid: proc.pid!,
    messages,
    stderr: () => stderr,
    tail: () => buffer,
    exited,
    waitFor,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL")
      return exited
    }
  }
}

/** Kills every child still running (each by its own pid). */
export const killAll = async () => {
  const left = [...running]
  for (const proc of left) proc.kill("SIGKILL")
  await Promise.all(left.map((proc) => new Promise((resolve) => proc.exitCode !== null || proc.signalCode !== null ? resolve(undefined) : proc.once("close", resolve))))
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
