/** Entry point of `npm start`; see `serve.ts`. */
import { main } from "./serve.js"

await main()
