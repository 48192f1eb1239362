const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A page to use as `returnUrl` while trying the gateway: it shows what the
 * checkout page reported. A real shop confirms the status with the gateway
 * (the payment query or the paymentUpdated subscription), never from the URL.
 */
export function demoReturnPage(params: URLSearchParams): string {
  const rows = [...params.entries()].map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back from UCanPay checkout</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem}</style></head>
<body><h1>Back from UCanPay checkout</h1><table>${rows}</table>
<p>The URL is only a hint: ask the gateway for the payment's status (query <code>payment(id)</code> or subscribe to <code>paymentUpdated</code>).</p></body></html>`;
}
