import { registerEnumType } from 'type-graphql';

export enum EventCauseKind {
  API_KEY = 'api_key',
  CLIENT_SECRET = 'client_secret',
  UCANPAY_WEBHOOK = 'ucanpay_webhook',
  RECONCILIATION = 'reconciliation',
  REFRESH = 'refresh',
  SYSTEM = 'system',
}

registerEnumType(EventCauseKind, {
  name: 'EventCauseKind',
  description: 'What made the change.',
  valuesConfig: {
    API_KEY: { description: 'A request with your API key; id is the key’s id (never the key).' },
    CLIENT_SECRET: { description: "A request with a payment's client secret; id is the payment's id." },
    UCANPAY_WEBHOOK: { description: "A UCanPay webhook; id is UCanPay's event id." },
    RECONCILIATION: { description: 'The gateway asked UCanPay on its own (reconciliation); id is null.' },
    REFRESH: { description: 'A read with refresh: true; id is the API key’s id (or the payment’s, for a client secret).' },
    SYSTEM: { description: 'The gateway itself, e.g. a background job; id is null.' },
  },
});
