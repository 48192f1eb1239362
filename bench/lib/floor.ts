/** The one row of the floor database of bench/servers/apollo-bare.ts (scenario (f)). */
export const FLOOR_PAYMENT_ID = 'pay_floor_0000000000000000000001';
