/**
 * UCanPay provider integration: REST client, domain types, wire mappers,
 * typed errors and webhook signatures. See docs/ucanpay-client.md.
 */
export { UCanPayClient, parseRetryAfter, longestCallMs, CLIENT_DEFAULTS } from './client';
export type { UCanPayClientOptions, UCanPayAttemptInfo, UCanPayEndpoint, UCanPayLogger } from './client';
export {
  UCanPayError,
  UCANPAY_ERROR_TABLE,
  codeForHttpStatus,
  isContractErrorCode,
  isRetryableHttpStatus,
} from './errors';
export type { UCanPayErrorCode, UCanPayContractErrorCode, UCanPayErrorInit } from './errors';
export {
  signWebhookPayload,
  verifyWebhookSignature,
  UCANPAY_SIGNATURE_HEADER,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
} from './signature';
export type { VerifyWebhookSignatureInput, WebhookSignatureResult, WebhookSignatureFailure } from './signature';
export { toOrder, toRefund, toSubscription, toWebhookEvent, toCreateOrderRequest } from './wire';
export type {
  UCanPayWebhookEvent,
  UCanPayEventType,
  UCanPayOrderEventType,
  UCanPayRefundEventType,
  UCanPaySubscriptionEventType,
} from './wire';
export type * from './types';
