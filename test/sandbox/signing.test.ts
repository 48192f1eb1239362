import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/ucanpay-webhook-vectors.json';
import { signWebhook, webhookV1 } from '../../src/sandbox/signing';
import { verifySignature } from './helpers';

interface Vector {
  secret: string;
  t: number;
  raw_body: string;
  header: string;
  v1?: string;
  valid: boolean;
  note?: string;
}

describe('signWebhook against the shared test vectors', () => {
  const all = (vectors as { vectors: Vector[] }).vectors;

  it('has vectors to check', () => {
    expect(all.length).toBeGreaterThanOrEqual(5);
  });

  for (const [i, v] of all.entries()) {
    it(`vector ${i + 1} (${v.note ?? (v.valid ? 'valid' : 'invalid')})`, () => {
      const ours = signWebhook(v.secret, v.raw_body, v.t);
      const headerV1s = v.header
        .split(',')
        .filter((p) => p.startsWith('v1='))
        .map((p) => p.slice(3));
      if (v.valid) {
        expect(headerV1s).toContain(webhookV1(v.secret, v.raw_body, v.t));
        if (v.v1) expect(webhookV1(v.secret, v.raw_body, v.t)).toBe(v.v1);
        if (headerV1s.length === 1) expect(ours).toBe(v.header);
      } else {
        expect(headerV1s).not.toContain(webhookV1(v.secret, v.raw_body, v.t));
      }
      // Our test-side verifier agrees with the vector's verdict at time t.
      expect(verifySignature(v.secret, v.raw_body, v.header, v.t)).toBe(v.valid);
    });
  }

  it('is t=<t>,v1=<64 lowercase hex>', () => {
    expect(signWebhook('s', '{}', 1)).toMatch(/^t=1,v1=[0-9a-f]{64}$/);
  });
});
