import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, GetPaymentDocument, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { launchBrowser } from '../helpers/browser';
import { collect, startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

/** The newcomer's path: GraphQL createPayment → checkout page in a browser → status live over graphql-ws. */
describe('a customer pays in a real browser', () => {
  it.each([
    ['Authorize', 'PAID'],
    ['Decline', 'FAILED'],
  ] as const)('clicking %s at checkout pushes %s to the subscriber', async (button, status) => {
    const res = await gw.gql(CreatePaymentDocument, {
      input: { amount: 1999, currency: 'USD', description: 'Blue T-shirt', returnUrl: `${gw.app.url}/demo/return` },
    });
    const created = res.data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(res));
    const payment = created.payment;
    // The browser follows the payment with its client secret, as a web app would.
    const sub = collect(gw.ws(payment.clientSecret), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');

    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(payment.checkoutUrl!);
      expect(await page.textContent('body')).toContain('19.99 USD');
      await Promise.all([page.waitForURL((u) => u.pathname === '/demo/return'), page.click(`button:has-text("${button}")`)]);
      expect(new URL(page.url()).searchParams.get('status')).toBe(status);
      expect(await page.textContent('body')).toContain(status);
    } finally {
      await page.close();
    }

    const pushed = await sub.until((v) => v.data?.paymentUpdated.status === status);
    const stored = (await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!;
    expect(stored).toMatchObject({ status, version: pushed.data!.paymentUpdated.version });
    if (status === 'PAID') expect(stored.transactionId).toBeTruthy();
    else expect(stored.failureCode).toBe('CARD_DECLINED');
    sub.unsubscribe();
  });
});
