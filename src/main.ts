import 'reflect-metadata';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startTracingFromEnv } from './telemetry/tracing';

/** `npm start`: the gateway (and, unless UCANPAY_BASE_URL is set, the embedded UCanPay sandbox). */
async function main(): Promise<void> {
  let config;
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

  const db = config.database.type === 'sqlite' ? `SQLite ${config.database.path} (synchronous=${config.database.synchronous})` : 'PostgreSQL';
  const lines = [
    '',
    'UCanPay GraphQL Gateway is running',
    `  GraphQL (Apollo Sandbox in a browser): ${app.graphqlUrl}`,
    `  Subscriptions (graphql-ws):            ${app.wsUrl}`,
    `  Webhooks from UCanPay:                 ${app.url}/webhooks/ucanpay/<merchantId>`,
    `  Health:                                ${app.url}/health`,
    `  UCanPay:                               ${app.sandbox ? `embedded sandbox at ${app.ucanpayUrl} (docs/sandbox.md)` : app.ucanpayUrl}`,
    `  Database:                              ${db}`,
    `  Demo merchant:                         ${app.demo.merchantId}`,
    app.demo.apiKey
      ? `  Demo API key:                          ${app.demo.apiKey}\n    In Apollo Sandbox, add the header  Authorization: Bearer ${app.demo.apiKey}`
      : '  Demo API key:                          (set DEMO_MERCHANT_API_KEY to choose one)',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => (stopTracing ? stopTracing().catch(() => undefined) : undefined),
    ).then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
