import { GatewayError, notFound } from '../domain/errors';
import type { Principal } from './merchant.service';

/** The merchant behind an API key; a client secret or no credentials is refused. */
export function requireMerchant(principal: Principal | null, operation: string): string {
  if (!principal) throw unauthenticated();
  if (principal.kind !== 'merchant') {
    throw new GatewayError('FORBIDDEN', `${operation} needs the merchant API key; a client secret may only read and follow its own payment`);
  }
  return principal.merchantId;
}

/**
 * The merchant whose payment `paymentId` this principal may read: its
 * merchant's API key, or that payment's own client secret.
 */
export function requirePaymentReader(principal: Principal | null, paymentId: string, what = 'payment', id = paymentId): string {
  if (!principal) throw unauthenticated();
  if (principal.kind === 'client' && principal.paymentId !== paymentId) throw notFound(what, id);
  return principal.merchantId;
}

export function unauthenticated(): GatewayError {
  return new GatewayError('UNAUTHENTICATED', 'Send "Authorization: Bearer <API key or client secret>"; the credentials given are missing or not valid');
}
