/**
 * `npm run sandbox`: a standalone UCanPay sandbox.
 *
 * Env: UCANPAY_SANDBOX_PORT (default 4010), UCANPAY_SANDBOX_HOST (default 127.0.0.1),
 * UCANPAY_SANDBOX_PUBLIC_URL, UCANPAY_MERCHANT_ID, UCANPAY_SECRET_KEY,
 * UCANPAY_WEBHOOK_SECRET, SANDBOX_DB (default ./data/sandbox.sqlite), LOG_LEVEL.
 */
import path from 'node:path';
import pino from 'pino';
import { createSandbox, DEMO_MERCHANT } from './index';

async function main(): Promise<void> {
  const env = process.env;
  const logger = pino({ level: env.LOG_LEVEL ?? 'info', base: { module: 'ucanpay-sandbox' } });
  const port = Number(env.UCANPAY_SANDBOX_PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('UCANPAY_SANDBOX_PORT must be a port number');
  const dbPath = env.SANDBOX_DB || path.join('data', 'sandbox.sqlite');

  const sandbox = await createSandbox({
    port,
    host: env.UCANPAY_SANDBOX_HOST || '127.0.0.1',
    dbPath,
    publicUrl: env.UCANPAY_SANDBOX_PUBLIC_URL || undefined,
    merchants: [
      {
        merchantId: env.UCANPAY_MERCHANT_ID || DEMO_MERCHANT.merchantId,
        secretKey: env.UCANPAY_SECRET_KEY || DEMO_MERCHANT.secretKey,
        webhookSecret: env.UCANPAY_WEBHOOK_SECRET || DEMO_MERCHANT.webhookSecret,
        name: DEMO_MERCHANT.name,
      },
    ],
    logger,
  });
  // Print where it is and which merchant id to use; never the secrets.
  logger.info({ url: sandbox.url, merchant_id: env.UCANPAY_MERCHANT_ID || DEMO_MERCHANT.merchantId, db: dbPath }, 'sandbox ready');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping sandbox');
    sandbox.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    // eslint-disable-next-line no-console
    console.error('UCanPay sandbox failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
