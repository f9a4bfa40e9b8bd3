// Loads the IETF MLS test vectors shared by the team (read-only, outside the repo).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VECTOR_DIR = fileURLToPath(new URL('../../../../shared/vectors/mls/', import.meta.url));

export function loadVectors<T>(name: string): T[] {
  return JSON.parse(readFileSync(VECTOR_DIR + name, 'utf8')) as T[];
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHexString = (b: Uint8Array): string => Buffer.from(b).toString('hex');
