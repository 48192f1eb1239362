import { registerEnumType } from 'type-graphql';

export enum BillingInterval {
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
  YEAR = 'YEAR',
}

registerEnumType(BillingInterval, {
  name: 'BillingInterval',
  description: 'The unit of a billing period; a period is intervalCount of these.',
  valuesConfig: {
    DAY: { description: 'A calendar day (UTC).' },
    WEEK: { description: 'Seven days.' },
    MONTH: { description: 'A calendar month.' },
    YEAR: { description: 'A calendar year.' },
  },
});
