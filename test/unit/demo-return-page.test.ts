import { describe, expect, it } from 'vitest';
import { demoReturnPage } from '../../src/http/demo-return-page';

/** The demo returnUrl page tells the newcomer what to ask the gateway next, for what actually came back. */
describe('demo return page', () => {
  it('after a payment: payment(id) and paymentUpdated, nothing about subscriptions', () => {
    const html = demoReturnPage(new URLSearchParams({ order_id: 'ord_1', out_trade_no: 'order-1001', status: 'PAID' }));
    expect(html).toContain('Back from UCanPay checkout');
    expect(html).toContain('payment(id: "pay_…")');
    expect(html).toContain('paymentUpdated');
    expect(html).not.toMatch(/subscription/i);
  });

  it('after a subscription mandate: subscription(id) and subscriptionUpdated, nothing about payments', () => {
    const html = demoReturnPage(new URLSearchParams({ subscription_id: 'usub_1', out_subscription_no: 'SUB-1', status: 'ACTIVE' }));
    expect(html).toContain('mandate');
    expect(html).toContain('subscription(id: "sub_…")');
    expect(html).toContain('subscriptionUpdated');
    expect(html).not.toContain('payment(id');
    expect(html).not.toContain('paymentUpdated');
  });

  it('escapes what the URL carries', () => {
    const html = demoReturnPage(new URLSearchParams({ order_id: '<script>x</script>' }));
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
  });
});
