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
export interface DemoMerchant {
  merchantId: string;
  /** Its UCanPay merchant id (what the sandbox's inspection endpoints take as merchant_id). */
  ucanpayMerchantId: string;
  /** Outside production only, or DEMO_MERCHANT_API_KEY when the operator set it. */
  apiKey?: string;
  /** True when the key is the generated one (kept in ./data), false when DEMO_MERCHANT_API_KEY supplied it. */
  apiKeyGenerated: boolean;
}

export async function ensureDemoMerchant(config: Config, merchants: MerchantService, dataDir: string): Promise<DemoMerchant> {
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
  const ucanpayMerchantId = config.ucanpay.merchantId;
  if (config.demoMerchantApiKey) {
    if (!(await merchants.hasApiKey(DEMO_MERCHANT_ID, config.demoMerchantApiKey))) {
      await ignoreDuplicate(merchants.issueApiKey(DEMO_MERCHANT_ID, config.demoMerchantApiKey));
    }
    return { merchantId: DEMO_MERCHANT_ID, ucanpayMerchantId, apiKey: config.demoMerchantApiKey, apiKeyGenerated: false };
  }
  if (config.nodeEnv === 'production') return { merchantId: DEMO_MERCHANT_ID, ucanpayMerchantId, apiKeyGenerated: false };
  const keyFile = path.join(dataDir, 'demo-merchant-api-key');
  const saved = fs.existsSync(keyFile) ? fs.readFileSync(keyFile, 'utf8').trim() : '';
  if (saved && (await merchants.hasApiKey(DEMO_MERCHANT_ID, saved)))
    return { merchantId: DEMO_MERCHANT_ID, ucanpayMerchantId, apiKey: saved, apiKeyGenerated: true };
  const apiKey = await merchants.issueApiKey(DEMO_MERCHANT_ID);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  return { merchantId: DEMO_MERCHANT_ID, ucanpayMerchantId, apiKey, apiKeyGenerated: true };
}

async function ignoreDuplicate(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}
