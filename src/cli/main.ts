#!/usr/bin/env node
/** The `or3-sqlite` executable (package.json `bin`); see `Cli.ts`. */
import { runCli } from "./Cli.js"
import { runAsProcess } from "./entry.js"

runAsProcess(runCli(process.argv))
