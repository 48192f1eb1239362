import 'reflect-metadata';
import { createApp } from './app';
import { startBanner } from './banner';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startTracingFromEnv } from './telemetry/tracing';

/** `npm start`: the gateway (and, unless UCANPAY_BASE_URL is set, the embedded UCanPay sandbox). */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`config error: ${problem}`);
      process.exit(1);
    }
    throw error;
  }
  // OpenTelemetry: on when the SDK's standard variables ask for export (OTEL_EXPORTER_OTLP_ENDPOINT, …).
  const stopTracing = await startTracingFromEnv();
  const log = createLogger(config.logLevel, undefined, { traceIds: Boolean(stopTracing) });
  const app = await createApp(config, { logger: log, tracing: Boolean(stopTracing) });

  process.stdout.write(startBanner(app, config));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    // In-flight requests finish within SHUTDOWN_TIMEOUT_MS; past it the process exits non-zero.
    app
      .drain(config.shutdownTimeoutMs)
      .then(async (clean) => {
        if (stopTracing) await stopTracing().catch(() => undefined);
        process.exit(clean ? 0 : 1);
      })
      .catch((error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
