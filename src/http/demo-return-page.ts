const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What came back: UCanPay's checkout adds order_id/out_trade_no for a payment, subscription_id/out_subscription_no for a mandate. */
export function returnKind(params: URLSearchParams): 'payment' | 'subscription' | 'unknown' {
  if (params.has('subscription_id') || params.has('out_subscription_no')) return 'subscription';
  if (params.has('order_id') || params.has('out_trade_no')) return 'payment';
  return 'unknown';
}

const ADVICE = {
  payment:
    'The URL is only a hint: ask the gateway for the payment\'s status (query <code>payment(id: "pay_…") { id status }</code> or subscribe to <code>paymentUpdated(id: "pay_…")</code>, with the id createPayment returned).',
  subscription:
    'The URL is only a hint: ask the gateway for the subscription (query <code>subscription(id: "sub_…") { id status currentPeriodEnd }</code> or subscribe to <code>subscriptionUpdated(id: "sub_…")</code>, with the id createSubscription returned). Once the mandate is authorized it becomes TRIALING or ACTIVE.',
  unknown:
    'The URL is only a hint: ask the gateway (query <code>payment(id)</code> or <code>subscription(id)</code>, or subscribe to <code>paymentUpdated</code> or <code>subscriptionUpdated</code>).',
};

/**
 * A page to use as `returnUrl` while trying the gateway: it shows what the
 * checkout page reported. A real shop confirms the status with the gateway
 * (the payment or subscription query, or its live subscription), never from the URL.
 */
export function demoReturnPage(params: URLSearchParams): string {
  const kind = returnKind(params);
  const title = kind === 'subscription' ? 'Back from the UCanPay mandate page' : 'Back from UCanPay checkout';
  const rows = [...params.entries()].map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem}</style></head>
<body><h1>${title}</h1><table>${rows}</table>
<p>${ADVICE[kind]}</p></body></html>`;
}
