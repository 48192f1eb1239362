import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser';
import { checkout, startGateway, type TestGateway } from '../helpers/gateway';
import { recordSecret } from '../helpers/run-logs';

/**
 * A newcomer explores the API offline: the gateway's own GraphiQL runs a
 * query, a mutation and a subscription (over graphql-ws) in Chromium with
 * every request that leaves the machine blocked, using the demo API key it
 * has pre-filled.
 */

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  // No DEMO_MERCHANT_API_KEY: the gateway generates the key, as on a first `npm start`.
  [gw, browser] = await Promise.all([startGateway({ DEMO_MERCHANT_API_KEY: '' }), launchBrowser()]);
  recordSecret(gw.app.demo.apiKey!);
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Replaces the query editor's text (GraphiQL 3 uses CodeMirror 5, which exposes its API on the element). */
async function setQuery(page: Page, text: string): Promise<void> {
  await page.evaluate((value) => {
    const el = document.querySelector('.graphiql-query-editor .CodeMirror') as (Element & { CodeMirror: { setValue(v: string): void } }) | null;
    if (!el) throw new Error('no query editor');
    el.CodeMirror.setValue(value);
  }, text);
  // GraphiQL parses the editor's text after a debounce: the Run button uses that parse to choose
  // HTTP or graphql-ws, so a click right after a change could still see the previous document.
  await page.waitForTimeout(750);
}

async function responseText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.querySelector('.result-window .CodeMirror') as (Element & { CodeMirror: { getValue(): string } }) | null;
    return el ? el.CodeMirror.getValue() : '';
  });
}

/** Waits (bounded) until the response pane parses as JSON and satisfies `predicate`. */
async function waitForResponse<T = any>(page: Page, predicate: (json: any) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await responseText(page);
    try {
      const json = JSON.parse(last);
      if (predicate(json)) return json;
    } catch {
      // not complete JSON yet
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`GraphiQL's response pane never matched; last: ${last}`);
}

describe('GraphiQL served by the gateway, with the network cut off', () => {
  it('runs a query, a mutation and a subscription with the pre-filled demo key', async () => {
    const context = await browser.newContext();
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (LOOPBACK.has(url.hostname) || url.protocol === 'data:') return route.continue();
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      await page.goto(`${gw.app.url}/`);
      expect(new URL(page.url()).pathname).toBe('/graphiql');
      await page.waitForSelector('.graphiql-query-editor .CodeMirror');
      await page.waitForSelector('.graphiql-execute-button');

      // The headers editor holds the generated demo key.
      const headers = await page.evaluate(() => {
        const el = document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) > .CodeMirror') as
          | (Element & { CodeMirror: { getValue(): string } })
          | null;
        return el?.CodeMirror.getValue() ?? '';
      });
      expect(JSON.parse(headers)).toEqual({ authorization: `Bearer ${gw.app.demo.apiKey}` });

      // A mutation.
      await setQuery(
        page,
        `mutation { createPayment(input: { amount: 1999, currency: "USD", description: "Blue T-shirt", returnUrl: "${gw.app.url}/demo/return", idempotencyKey: "ide-order-1" }) {
          __typename ... on CreatePaymentPayload { replayed payment { id status checkoutUrl version } } ... on ErrorResult { code message } } }`,
      );
      await page.click('.graphiql-execute-button');
      const created = await waitForResponse(page, (j) => j.data?.createPayment?.__typename === 'CreatePaymentPayload');
      const payment = created.data.createPayment.payment as { id: string; status: string; checkoutUrl: string; version: number };
      expect(payment.status).toBe('PENDING');

      // A subscription over graphql-ws: the current state first, then PAID once the customer pays.
      await setQuery(page, `subscription { paymentUpdated(id: "${payment.id}") { id status version transactionId } }`);
      await page.click('.graphiql-execute-button');
      await waitForResponse(page, (j) => j.data?.paymentUpdated?.status === 'PENDING');
      await checkout(payment.checkoutUrl, 'authorize');
      const paid = await waitForResponse(page, (j) => j.data?.paymentUpdated?.status === 'PAID');
      expect(paid.data.paymentUpdated).toMatchObject({ id: payment.id, transactionId: expect.any(String) });
      await page.click('.graphiql-execute-button'); // stops the subscription

      // A query.
      await setQuery(page, `query { payment(id: "${payment.id}") { id status version transactionId } }`);
      await page.click('.graphiql-execute-button');
      const read = await waitForResponse(page, (j) => j.data?.payment?.id === payment.id);
      expect(read.data.payment).toEqual({ ...paid.data.paymentUpdated });

      expect(blocked).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
