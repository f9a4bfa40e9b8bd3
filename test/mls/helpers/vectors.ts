// Loads the IETF MLS test vectors: the copies under test/vectors/mls, or MLS_VECTORS_DIR if set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VECTOR_DIR = process.env.MLS_VECTORS_DIR ?? fileURLToPath(new URL('../../vectors/mls/', import.meta.url));

export function loadVectors<T>(name: string): T[] {
  return JSON.parse(readFileSync(join(VECTOR_DIR, name), 'utf8')) as T[];
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHexString = (b: Uint8Array): string => Buffer.from(b).toString('hex');
