// Loads the IETF MLS test vectors: the copies under test/vectors/mls, or MLS_VECTORS_DIR if set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suiteFromId, type SuiteCrypto } from '../../../protocol/mls/tsmls.js';

export const VECTOR_DIR = process.env.MLS_VECTORS_DIR ?? fileURLToPath(new URL('../../vectors/mls/', import.meta.url));

export function loadVectors<T>(name: string): T[] {
  return JSON.parse(readFileSync(join(VECTOR_DIR, name), 'utf8')) as T[];
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHexString = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs `check` on every case of a vector file, with the case's ciphersuite. */
export async function eachCase<T extends { cipher_suite: number }>(
  name: string,
  check: (v: T, label: string, suite: SuiteCrypto) => void | Promise<void>,
): Promise<number> {
  const cases = loadVectors<T>(name);
  for (const [i, v] of cases.entries()) await check(v, `case ${i}`, await suiteFromId(v.cipher_suite));
  return cases.length;
}
