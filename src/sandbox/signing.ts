import { createHmac } from 'node:crypto';

/**
 * The UCanPay webhook signature: `v1 = hex(HMAC-SHA256(secret, "<t>.<raw body>"))`
 * over UTF-8 bytes; returns the header value `t=<t>,v1=<hex>`.
 */
export function signWebhook(secret: string, rawBody: string, t: number): string {
  return `t=${t},v1=${webhookV1(secret, rawBody, t)}`;
}

/** The bare `v1` hex digest. */
export function webhookV1(secret: string, rawBody: string, t: number): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${t}.${rawBody}`, 'utf8'))
    .digest('hex');
}

export const SIGNATURE_HEADER = 'UCanPay-Signature';
