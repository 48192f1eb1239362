import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxCall, startGateway } from '../helpers/gateway';
import { recordSecret } from '../helpers/run-logs';
import { createPayment } from './helpers';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'merchant-create-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `npm run merchant:create -- …` as a user runs it (ts-node), against the given environment. */
function merchantCreate(args: string[], env: Record<string, string>) {
  return run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/merchant-create.ts', ...args], {
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  });
}

describe('npm run merchant:create', () => {
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'gateway.sqlite')}`,
    SANDBOX_DB: path.join(dir, 'sandbox.sqlite'),
    // Nothing listens there: the command registers the merchant straight into SANDBOX_DB.
    UCANPAY_SANDBOX_PORT: '1',
  };

  it('creates a merchant whose API key works at once, with its own UCanPay merchant at the sandbox', async () => {
    const { stdout } = await merchantCreate(['--name', 'CLI Shop'], env);
    const apiKey = /API key \(shown once\): (\S+)/.exec(stdout)?.[1];
    const merchantId = /Merchant id: +(mer_\w+)/.exec(stdout)?.[1];
    const ucanpayMerchantId = /UCanPay merchant id: +(\S+) \(registered at the embedded sandbox\)/.exec(stdout)?.[1];
    expect(apiKey).toMatch(/^gw_/);
    expect(merchantId).toBeDefined();
    expect(ucanpayMerchantId).toBeDefined();
    recordSecret(apiKey);

    const gw = await startGateway({ DATABASE_URL: env.DATABASE_URL, SANDBOX_DB: env.SANDBOX_DB });
    try {
      const { payment } = await createPayment(gw, apiKey!);
      const { orders } = await sandboxCall<{ orders: Array<{ out_trade_no: string }> }>(
        gw.sandboxUrl,
        'GET',
        `/sandbox/orders?merchant_id=${ucanpayMerchantId}`,
      );
      expect(orders.map((o) => o.out_trade_no)).toEqual([payment.merchantReference]);
      // The database holds the key's HMAC, never the key.
      const rows = (await gw.app.db.dataSource.query('SELECT * FROM api_keys WHERE merchant_id = ?', [merchantId])) as unknown[];
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(apiKey);
    } finally {
      await gw.stop();
    }
  }, 90_000);

  it("against real UCanPay it refuses to run without the merchant's UCanPay credentials", async () => {
    await expect(merchantCreate(['--name', 'Real Shop'], { ...env, UCANPAY_BASE_URL: 'https://api.ucanpay.example' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('MERCHANT_UCANPAY_SECRET_KEY'),
    });
  }, 90_000);
});
