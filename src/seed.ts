import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import type { MerchantService } from './services/merchant.service';
import { isUniqueViolation } from './db/database';

export const DEMO_MERCHANT_ID = 'mer_demo';

/**
 * The demo merchant `npm start` creates on first start, linked to the
 * configured UCanPay credentials (the embedded sandbox's by default).
 * Its API key is DEMO_MERCHANT_API_KEY when set; otherwise one is generated
 * and, outside production, kept in ./data/demo-merchant-api-key so that every
 * start can print it (the database only holds its hash).
 */
export async function ensureDemoMerchant(config: Config, merchants: MerchantService, dataDir: string): Promise<{ merchantId: string; apiKey?: string }> {
  // Instances starting together on one database may both try: the loser's insert is a no-op.
  if (!(await merchants.findMerchant(DEMO_MERCHANT_ID))) {
    await ignoreDuplicate(
      merchants.createMerchant({
        id: DEMO_MERCHANT_ID,
        name: 'Demo Shop',
        ucanpayMerchantId: config.ucanpay.merchantId,
        ucanpaySecretKey: config.ucanpay.secretKey,
        ucanpayWebhookSecret: config.ucanpay.webhookSecret,
      }),
    );
  }
  if (config.demoMerchantApiKey) {
    if (!(await merchants.hasApiKey(DEMO_MERCHANT_ID, config.demoMerchantApiKey))) {
      await ignoreDuplicate(merchants.issueApiKey(DEMO_MERCHANT_ID, config.demoMerchantApiKey));
    }
    return { merchantId: DEMO_MERCHANT_ID, apiKey: config.demoMerchantApiKey };
  }
  if (config.nodeEnv === 'production') return { merchantId: DEMO_MERCHANT_ID };
  const keyFile = path.join(dataDir, 'demo-merchant-api-key');
  const saved = fs.existsSync(keyFile) ? fs.readFileSync(keyFile, 'utf8').trim() : '';
  if (saved && (await merchants.hasApiKey(DEMO_MERCHANT_ID, saved))) return { merchantId: DEMO_MERCHANT_ID, apiKey: saved };
  const apiKey = await merchants.issueApiKey(DEMO_MERCHANT_ID);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  return { merchantId: DEMO_MERCHANT_ID, apiKey };
}

async function ignoreDuplicate(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}
