/** A logger for tests that keeps warnings (and worse) in memory instead of printing anything. */
import { Logger, LogLevel } from "effect"

/** `layer` replaces Effect's default logger; `logs` receives the message of each warning or error. */
export const captureWarnings = () => {
  const logs: Array<string> = []
  const capture = Logger.make(({ logLevel, message }) => {
    if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) logs.push(String(Array.isArray(message) ? message.join(" ") : message))
  })
  return { logs, layer: Logger.replace(Logger.defaultLogger, capture) }
}
