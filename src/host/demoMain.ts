/** Entry point of `npm run demo`; see `demo.ts`. */
import { main } from "./demo.js"

process.exitCode = await main()
