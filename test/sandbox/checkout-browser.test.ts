import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser';
import { startReceiver, startSandbox, subscriptionBody, type Receiver, type TestSandbox } from './helpers';

let sb: TestSandbox;
let rx: Receiver;
let browser: Browser;
let shop: http.Server;
let shopUrl: string;

beforeAll(async () => {
  [sb, rx, browser] = await Promise.all([startSandbox(), startReceiver(), launchBrowser()]);
  // A tiny merchant site: the return URL.
  shop = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://shop');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Shop</title><h1 id="result">${u.searchParams.get('status') ?? 'none'}</h1>`);
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}/return`;
});

afterAll(async () => {
  await browser?.close();
  await sb?.stop();
  await rx?.stop();
  if (shop) {
    await new Promise<void>((resolve) => {
      shop.close(() => resolve());
      shop.closeAllConnections();
    });
  }
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(url);
  return page;
}

describe('hosted checkout in Chromium', () => {
  it('shows 19.99 USD, Authorize lands on the return URL with status=PAID, the order is PAID and the webhook arrives', async () => {
    const order = await sb.createOrder({ amount: 1999, currency: 'USD', description: 'Oolong <tin>', return_url: shopUrl, notify_url: rx.url });
    const page = await openPage(order.pay_url);
    try {
      expect(await page.textContent('[data-testid="amount"]')).toBe('19.99 USD');
      expect(await page.textContent('[data-testid="merchant"]')).toBe('Tea & <Co>');
      expect(await page.textContent('[data-testid="description"]')).toBe('Oolong <tin>');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(shopUrl)), page.click('button:has-text("Authorize")')]);
      const landed = new URL(page.url());
      expect(landed.searchParams.get('status')).toBe('PAID');
      expect(landed.searchParams.get('order_id')).toBe(order.order_id);
      expect(landed.searchParams.get('out_trade_no')).toBe(order.out_trade_no);
      expect(await page.textContent('#result')).toBe('PAID');
    } finally {
      await page.close();
    }
    expect((await sb.orderStatus(order.order_id)).status).toBe('PAID');
    const [hook] = await rx.waitFor(1, 5000, (r) => r.event.data.object.order_id === order.order_id);
    expect(hook.event.type).toBe('payment.succeeded');
    expect(hook.validSignature).toBe(true);
  });

  it('formats JPY without decimals; Cancel returns with status=CANCELLED; the page then shows the closed state', async () => {
    const order = await sb.createOrder({ amount: 500, currency: 'JPY', return_url: shopUrl, notify_url: rx.url });
    const page = await openPage(order.pay_url);
    try {
      expect(await page.textContent('[data-testid="amount"]')).toBe('500 JPY');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(shopUrl)), page.click('button:has-text("Cancel")')]);
      expect(new URL(page.url()).searchParams.get('status')).toBe('CANCELLED');
      await page.goto(order.pay_url);
      expect(await page.textContent('[data-testid="state"]')).toContain('cancelled');
      expect(await page.locator('button').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('shows an expired order as expired, without buttons', async () => {
    const order = await sb.createOrder({ expires_in: 60, return_url: shopUrl });
    await sb.advance(61);
    const page = await openPage(order.pay_url);
    try {
      expect(await page.textContent('[data-testid="state"]')).toContain('expired');
      expect(await page.locator('button').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('authorizes a subscription mandate (amount per interval) and returns with status=ACTIVE', async () => {
    const sub = await sb.api(
      'POST',
      '/subscriptions/create',
      subscriptionBody(sb.handle.now(), { amount: 1234, currency: 'KWD', interval: 'WEEK', interval_count: 2, return_url: shopUrl, notify_url: rx.url }),
    );
    const page = await openPage(sub.body.pay_url);
    try {
      expect(await page.textContent('[data-testid="amount"]')).toBe('1.234 KWD');
      expect(await page.textContent('[data-testid="interval"]')).toBe('every 2 weeks');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(shopUrl)), page.click('button:has-text("Authorize")')]);
      expect(new URL(page.url()).searchParams.get('status')).toBe('ACTIVE');
    } finally {
      await page.close();
    }
    const [hook] = await rx.waitFor(1, 5000, (r) => r.event.data.object.subscription_id === sub.body.subscription_id);
    expect(hook.event.type).toBe('subscription.activated');
  });
});
