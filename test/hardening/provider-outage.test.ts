import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UCANPAY_ERROR_MAP } from '../../src/services/provider-facts';
import { UCANPAY_ERROR_TABLE, type UCanPayContractErrorCode } from '../../src/ucanpay';
import { sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { createPayment, firstError, paidPayment, rawGql } from './helpers';

/**
 * UCanPay outages and refusals, end to end with sandbox faults. The
 * gateway's client makes 2 attempts per call here (UCANPAY_MAX_ATTEMPTS),
 * so a fault with count 2 outlasts one mutation and then clears.
 */

const ATTEMPTS = 2;
let gw: TestGateway;
let merchantId: string;

beforeAll(async () => {
  gw = await startGateway({ UCANPAY_MAX_ATTEMPTS: String(ATTEMPTS) });
  merchantId = gw.config.ucanpay.merchantId;
});
afterEach(async () => {
  await sandboxCall(gw.sandboxUrl, 'DELETE', '/sandbox/faults');
});
afterAll(async () => {
  await gw?.stop();
});

const fault = (rule: Record<string, unknown>) => sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', rule);

const CREATE = `mutation($input: CreatePaymentInput!) { createPayment(input: $input) {
  __typename ... on CreatePaymentPayload { replayed payment { id status merchantReference failureCode } }
  ... on ProviderError { code providerCode message } } }`;
const REFUND = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) {
  __typename ... on RefundPaymentPayload { replayed refund { id status merchantReference } }
  ... on ProviderError { code providerCode message } } }`;

const paymentInput = (ref: string, key: string) => ({
  amount: 3100,
  currency: 'USD',
  description: 'Outage test',
  returnUrl: 'https://shop.example/r',
  merchantReference: ref,
  idempotencyKey: key,
});

async function ordersFor(ref: string) {
  return (await sandboxCall<{ orders: unknown[] }>(gw.sandboxUrl, 'GET', `/sandbox/orders?merchant_id=${merchantId}&out_trade_no=${ref}`)).orders;
}

describe('PROVIDER_UNAVAILABLE: the key stays usable and the retry creates exactly one object', () => {
  it('createPayment during a 503 outage, then again with the same key once UCanPay is back', async () => {
    const input = paymentInput('outage-pay-1', 'outage-key-1');
    await fault({ endpoint: 'POST /payment/unifiedorder', status: 503, count: ATTEMPTS });
    const failed = await rawGql(gw, CREATE, { input });
    const error = firstError(failed);
    expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, providerCode: 'SERVICE_UNAVAILABLE' });
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(typeof error.requestId).toBe('string');
    expect(failed.json?.data?.createPayment ?? null).toBeNull();
    expect(await ordersFor('outage-pay-1')).toHaveLength(0);

    // Still down: the same key is not stuck "in use", it fails the same way.
    await fault({ endpoint: 'POST /payment/unifiedorder', status: 503, count: ATTEMPTS });
    expect(firstError(await rawGql(gw, CREATE, { input })).code).toBe('PROVIDER_UNAVAILABLE');

    // Back: the same key creates the payment, once.
    const ok = await rawGql(gw, CREATE, { input });
    expect(ok.json?.data?.createPayment).toMatchObject({ __typename: 'CreatePaymentPayload', replayed: false, payment: { status: 'PENDING' } });
    const again = await rawGql(gw, CREATE, { input });
    expect(again.json?.data?.createPayment).toMatchObject({ replayed: true, payment: { id: ok.json?.data?.createPayment.payment.id } });
    expect(await ordersFor('outage-pay-1')).toHaveLength(1);

    // Every attempt to UCanPay, faulted or not, carried the same UCanPay Idempotency-Key.
    const { requests } = await sandboxCall<{ requests: Array<{ idempotency_key: string; merchant_id: string; fault: unknown }> }>(
      gw.sandboxUrl,
      'GET',
      '/sandbox/requests?endpoint=POST%20/payment/unifiedorder',
    );
    const keys = new Set(requests.filter((r) => r.idempotency_key === ok.json?.data?.createPayment.payment.id).map((r) => r.idempotency_key));
    expect(keys.size).toBe(1);
    expect(requests.filter((r) => r.idempotency_key === ok.json?.data?.createPayment.payment.id)).toHaveLength(2 * ATTEMPTS + 1);
  });

  it('a dropped connection and a 429 with Retry-After are outages too', async () => {
    await fault({ endpoint: 'POST /payment/unifiedorder', drop: true, count: ATTEMPTS });
    const dropped = firstError(await rawGql(gw, CREATE, { input: paymentInput('outage-pay-2', 'outage-key-2') }));
    expect(dropped).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, providerCode: 'NETWORK_ERROR' });

    await fault({ endpoint: 'POST /payment/unifiedorder', status: 429, retry_after: 2, count: ATTEMPTS });
    const limited = firstError(await rawGql(gw, CREATE, { input: paymentInput('outage-pay-3', 'outage-key-3') }));
    expect(limited).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', providerCode: 'RATE_LIMITED', retryAfterSeconds: 2 });

    for (const [ref, key] of [
      ['outage-pay-2', 'outage-key-2'],
      ['outage-pay-3', 'outage-key-3'],
    ]) {
      expect((await rawGql(gw, CREATE, { input: paymentInput(ref, key) })).json?.data?.createPayment.__typename).toBe('CreatePaymentPayload');
      expect(await ordersFor(ref)).toHaveLength(1);
    }
  });

  it('refundPayment during a 503 outage, then again with the same key: one refund at UCanPay', async () => {
    const payment = await paidPayment(gw, gw.config.demoMerchantApiKey!);
    const input = { paymentId: payment.id, amount: 500, merchantReference: 'outage-ref-1', idempotencyKey: 'outage-refund-key-1' };
    await fault({ endpoint: 'POST /payment/refund', status: 503, count: ATTEMPTS });
    const failed = firstError(await rawGql(gw, REFUND, { input }));
    expect(failed).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, providerCode: 'SERVICE_UNAVAILABLE' });

    // While the first refund waits for its retry, its amount stays reserved and nothing was refunded at UCanPay.
    const refunds = async () =>
      (await sandboxCall<{ refunds: Array<{ out_refund_no: string }> }>(gw.sandboxUrl, 'GET', `/sandbox/refunds?merchant_id=${merchantId}`)).refunds.filter(
        (r) => r.out_refund_no === 'outage-ref-1',
      );
    expect(await refunds()).toHaveLength(0);

    const ok = await rawGql(gw, REFUND, { input });
    expect(ok.json?.data?.refundPayment).toMatchObject({ __typename: 'RefundPaymentPayload', replayed: false });
    const again = await rawGql(gw, REFUND, { input });
    expect(again.json?.data?.refundPayment).toMatchObject({ replayed: true, refund: { id: ok.json?.data?.refundPayment.refund.id } });
    expect(await refunds()).toHaveLength(1);
  });

  it('a status read during an outage fails retryable and changes nothing', async () => {
    const { payment } = await createPayment(gw, gw.config.demoMerchantApiKey!);
    await fault({ endpoint: 'GET /payment/status', status: 500, count: ATTEMPTS });
    const res = await rawGql(gw, 'query($id: ID!) { payment(id: $id, refresh: true) { status version } }', { id: payment.id });
    expect(firstError(res)).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, providerCode: 'PROVIDER_ERROR' });
    const read = await rawGql(gw, 'query($id: ID!) { payment(id: $id) { status version } }', { id: payment.id });
    expect(read.json?.data?.payment).toEqual({ status: 'PENDING', version: payment.version });
  });
});

describe('every UCanPay contract error code, through the one mapping table', () => {
  const codes = Object.keys(UCANPAY_ERROR_TABLE) as UCanPayContractErrorCode[];

  it.each(codes.map((code) => [code, UCANPAY_ERROR_MAP[code]] as const))('%s → %s', async (code, target) => {
    const ref = `map-${code.toLowerCase().replace(/_/g, '-')}`;
    const input = paymentInput(ref, `map-key-${code}`);
    await fault({ endpoint: 'POST /payment/unifiedorder', code, message: `secret provider payload for ${code}`, count: ATTEMPTS, retry_after: 0 });
    const res = await rawGql(gw, CREATE, { input });
    await sandboxCall(gw.sandboxUrl, 'DELETE', '/sandbox/faults');
    if (target === 'PROVIDER_ERROR') {
      // A refusal: the typed result, recorded — the same key replays it.
      expect(res.json?.data?.createPayment).toMatchObject({ __typename: 'ProviderError', code: 'PROVIDER_ERROR', providerCode: code });
      const replay = await rawGql(gw, CREATE, { input });
      expect(replay.json?.data?.createPayment).toMatchObject({ __typename: 'ProviderError', providerCode: code });
    } else {
      // Thrown, retryable; no provider payload in the answer; the same key works once UCanPay does.
      const error = firstError(res);
      expect(error).toMatchObject({ code: target, retryable: true, providerCode: code });
      expect(res.text).not.toContain('secret provider payload');
      const retry = await rawGql(gw, CREATE, { input });
      expect(retry.json?.data?.createPayment).toMatchObject({ __typename: 'CreatePaymentPayload', replayed: false });
      expect(await ordersFor(ref)).toHaveLength(1);
    }
  });
});
