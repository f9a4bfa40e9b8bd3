// Synchronous hashing for the tree: hundreds of small digests per commit, where the async ts-mls Hash
// interface would add a promise per node.
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';

export type HashFn = (data: Uint8Array) => Uint8Array;

export function hashFunction(algorithm: 'SHA-256' | 'SHA-384' | 'SHA-512'): HashFn {
  switch (algorithm) {
    case 'SHA-256':
      return sha256;
    case 'SHA-384':
      return sha384;
    case 'SHA-512':
      return sha512;
  }
}
