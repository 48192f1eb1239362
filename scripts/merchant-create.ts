import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from '../src/config';
import { openDatabase } from '../src/db/database';
import { createSandbox } from '../src/sandbox';
import { MerchantService } from '../src/services/merchant.service';

/**
 * `npm run merchant:create -- --name "Blue Shop"`: a new merchant with its
 * own gateway API key and its own UCanPay credentials.
 *
 * - Embedded sandbox (UCANPAY_BASE_URL unset): fresh UCanPay credentials are
 *   generated and registered at the sandbox (`POST /sandbox/merchants`) — at
 *   the running gateway's sandbox, or, when none answers, directly in its
 *   state file (SANDBOX_DB) through a short-lived sandbox instance.
 * - Real UCanPay: pass `--ucanpay-merchant-id`, and the secrets in the
 *   environment (kept out of shell history and `ps`):
 *   MERCHANT_UCANPAY_SECRET_KEY, MERCHANT_UCANPAY_WEBHOOK_SECRET.
 *
 * The API key is printed once; the database keeps only its HMAC.
 */

export interface UCanPayCredentials {
  merchantId: string;
  secretKey: string;
  webhookSecret: string;
}

export interface CreatedMerchant {
  /** The gateway's merchant id (its webhook route is /webhooks/ucanpay/<id>). */
  merchantId: string;
  name: string;
  /** Shown once. */
  apiKey: string;
  ucanpay: UCanPayCredentials;
  registeredAtSandbox: boolean;
}

/**
 * The one code path that creates a merchant (the CLI and the tests use it).
 * `sandboxUrl`: the embedded sandbox is in use; credentials not given are
 * generated there and the merchant is registered with it.
 */
export async function createMerchantAccount(
  deps: { merchants: MerchantService; sandboxUrl?: string },
  input: { name: string; ucanpay?: Partial<UCanPayCredentials> },
): Promise<CreatedMerchant> {
  const name = input.name?.trim() ?? '';
  // eslint-disable-next-line no-control-regex
  if (name.length < 1 || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new Error('--name must be 1 to 100 characters without control characters');
  }
  let ucanpay: UCanPayCredentials;
  if (deps.sandboxUrl) {
    const res = await fetch(`${deps.sandboxUrl}/sandbox/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        merchant_id: input.ucanpay?.merchantId,
        secret_key: input.ucanpay?.secretKey,
        webhook_secret: input.ucanpay?.webhookSecret,
        name,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status !== 201)
      throw new Error(`the sandbox refused the merchant (HTTP ${res.status}): ${JSON.stringify((body as { error?: unknown }).error ?? body)}`);
    ucanpay = { merchantId: String(body.merchant_id), secretKey: String(body.secret_key), webhookSecret: String(body.webhook_secret) };
  } else {
    const { merchantId, secretKey, webhookSecret } = input.ucanpay ?? {};
    if (!merchantId || !secretKey || !webhookSecret) {
      throw new Error(
        'with real UCanPay (UCANPAY_BASE_URL set) give --ucanpay-merchant-id and set MERCHANT_UCANPAY_SECRET_KEY and MERCHANT_UCANPAY_WEBHOOK_SECRET',
      );
    }
    ucanpay = { merchantId, secretKey, webhookSecret };
  }
  const merchant = await deps.merchants.createMerchant({
    name,
    ucanpayMerchantId: ucanpay.merchantId,
    ucanpaySecretKey: ucanpay.secretKey,
    ucanpayWebhookSecret: ucanpay.webhookSecret,
  });
  const apiKey = await deps.merchants.issueApiKey(merchant.id);
  return { merchantId: merchant.id, name, apiKey, ucanpay, registeredAtSandbox: Boolean(deps.sandboxUrl) };
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument "${arg}"`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    out[match[1]] = value;
  }
  return out;
}

/** The running gateway's embedded sandbox, or a short-lived one on the same state file. */
async function withSandbox<T>(config: Config, explicitUrl: string | undefined, work: (url: string) => Promise<T>): Promise<T> {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = explicitUrl ?? `http://${host}:${config.ucanpay.sandboxPort}`;
  const running = await fetch(`${url}/sandbox/health`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.ok)
    .catch(() => false);
  if (running) return work(url);
  if (explicitUrl) throw new Error(`no UCanPay sandbox answers at ${explicitUrl}`);
  const sandbox = await createSandbox({ port: 0, host: '127.0.0.1', dbPath: config.ucanpay.sandboxDbPath });
  try {
    return await work(sandbox.url);
  } finally {
    await sandbox.stop();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const unknown = Object.keys(args).filter((k) => !['name', 'ucanpay-merchant-id', 'sandbox-url'].includes(k));
  if (unknown.length || !args.name) {
    throw new Error('usage: npm run merchant:create -- --name "Shop name" [--ucanpay-merchant-id mch_…] [--sandbox-url http://127.0.0.1:4010]');
  }
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    const merchants = new MerchantService(db, config.apiKeyPepper);
    const input = {
      name: args.name,
      ucanpay: {
        merchantId: args['ucanpay-merchant-id'],
        secretKey: process.env.MERCHANT_UCANPAY_SECRET_KEY || undefined,
        webhookSecret: process.env.MERCHANT_UCANPAY_WEBHOOK_SECRET || undefined,
      },
    };
    const created = config.ucanpay.baseUrl
      ? await createMerchantAccount({ merchants }, input)
      : await withSandbox(config, args['sandbox-url'], (sandboxUrl) => createMerchantAccount({ merchants, sandboxUrl }, input));
    process.stdout.write(
      [
        '',
        `Merchant created: ${created.name}`,
        `  Merchant id:          ${created.merchantId}`,
        `  API key (shown once): ${created.apiKey}`,
        `  UCanPay merchant id:  ${created.ucanpay.merchantId}${created.registeredAtSandbox ? ' (registered at the embedded sandbox)' : ''}`,
        `  UCanPay webhook URL:  ${config.publicUrl}/webhooks/ucanpay/${created.merchantId}`,
        '  Use it: Authorization: Bearer <API key>',
        '',
      ].join('\n'),
    );
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    if (error instanceof ConfigError) for (const problem of error.problems) console.error(`config error: ${problem}`);
    else console.error(`merchant:create failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
