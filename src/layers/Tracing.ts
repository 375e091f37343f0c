/**
 * Optional OpenTelemetry export of the provider's spans, switched on by `OR3_SQLITE_OTEL=true`.
 *
 * The OpenTelemetry packages are not dependencies of this package: the app installs them when it
 * wants traces (docs/operators.md lists them), and this layer loads them at run time with
 * `import()` of a computed name, so bundlers leave them alone and an app without them never loads
 * them. Merged into the provider's layer, the tracer it sets applies to the whole runtime: every
 * facade call, service method (`SyncGateway.push`, ...) and SQL statement is exported.
 *
 * A missing package never stops the provider: tracing is an aid, sync is the service. It is logged
 * once as an error naming what to install, and the provider runs untraced.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ConfigInvalid } from "../schema/errors.js"
import { flagConfig, toConfigInvalid } from "./SqliteConfig.js"

/**
 * What the app installs for `OR3_SQLITE_OTEL=true`, at versions that resolve together with this
 * package's effect 3.22 (the newest `@effect/opentelemetry` needs effect 4; `@opentelemetry/resources`
 * 3.x and `@opentelemetry/api` 1.10 fail its peer ranges). docs/operators.md shows the same line.
 */
export const otelPackages = [
  "@effect/opentelemetry@0.64.1",
  "@opentelemetry/api@1.9.0",
  "@opentelemetry/resources@2.12.1",
  "@opentelemetry/sdk-trace-base@2.12.1",
  "@opentelemetry/sdk-trace-node@2.12.1",
  "@opentelemetry/exporter-trace-otlp-http@0.223.1",
  "@opentelemetry/semantic-conventions@1.45.0"
] as const

/** Loads a module by name; replaced in tests. */
export type ModuleLoader = (specifier: string) => Promise<any>

const loadByName: ModuleLoader = (specifier) => import(specifier)

/**
 * The OTel layer: `NodeSdk.layer` with a batch processor and the OTLP/HTTP exporter, which reads
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (default http://localhost:4318) and the other `OTEL_*` variables.
 */
export const makeOtelLayer = (serviceName: string, load: ModuleLoader = loadByName) =>
  Effect.tryPromise({
    try: async () => {
      const [{ NodeSdk }, { BatchSpanProcessor }, { OTLPTraceExporter }] = await Promise.all([
        load("@effect/opentelemetry"),
        load("@opentelemetry/sdk-trace-base"),
        load("@opentelemetry/exporter-trace-otlp-http")
      ])
      return NodeSdk.layer(() => ({
        resource: { serviceName },
        spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter())
      })) as Layer.Layer<never>
    },
    catch: (cause) => cause
  })

/**
 * `OR3_SQLITE_OTEL=true`: the OTel layer (service name `OTEL_SERVICE_NAME`, default `or3-chat`).
 * Otherwise, or when the packages are missing, an empty layer. A value that is not a yes/no (such
 * as `maybe`) stops the start with `ConfigInvalid`, like every other malformed setting.
 */
export const layerFromEnv = (load: ModuleLoader = loadByName): Layer.Layer<never, ConfigInvalid> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const enabled = yield* Effect.mapError(flagConfig("OR3_SQLITE_OTEL").pipe(Config.withDefault(false)), toConfigInvalid)
      if (!enabled) return Layer.empty
      const serviceName = yield* Effect.mapError(Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("or3-chat")), toConfigInvalid)
      return yield* makeOtelLayer(serviceName, load).pipe(
        Effect.catchAll((cause) =>
          Effect.as(
            Effect.logError(
              `OR3_SQLITE_OTEL=true but the OpenTelemetry packages could not be loaded (${
                (cause as Error)?.message ?? String(cause)
              }); spans are not exported. Install: npm install ${otelPackages.join(" ")}`
            ),
            Layer.empty
          )
        )
      )
    }).pipe(Effect.annotateLogs("package", "or3-sqlite"))
  )
