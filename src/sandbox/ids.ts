import { randomBytes } from 'node:crypto';

/** `prefix_` + 24 random hex characters, e.g. `ord_3f9a…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export function randomSecret(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}
