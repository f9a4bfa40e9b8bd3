// Finding random byte strings (HPKE encs: X25519 public keys, fresh per sealing) in maps without a
// string key per lookup: building and hashing a hex or base64 key cost about a microsecond per queue
// message on the enqueue path. A number from the first eight bytes is the map key; a hit still compares
// every byte, so a string that shares another's number is only a miss (and may push the other out),
// never a false match.
import { randomBytes } from 'node:crypto';

/** Not constant-time: only for values that are not secret. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;

/** A copy that owns its memory. (Not `slice()`: on a Buffer, as protobufjs decodes bytes fields,
 *  that is a view of the same memory.) */
export const copyOf = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/** Odd multipliers drawn once per process, so nobody outside can tell which strings share a hint
 *  (and aim one at another's cache entry). */
const seed = randomBytes(8);
const K0 = seed.readInt32BE(0) | 1;
const K1 = seed.readInt32BE(4) | 1;

/** The map key of `bytes`: 30 bits mixed from its first eight bytes under the process's multipliers
 *  (distinct negative numbers for shorter strings). 30 bits keep it a small integer, which V8 stores
 *  and hashes without allocating; two of 10,000 random strings share a hint about once in twenty
 *  caches full, and then only miss. */
export const bytesHint = (bytes: Uint8Array): number => {
  if (bytes.length < 8) return -1 - bytes.length;
  const first = (bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
  const second = (bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!;
  return (Math.imul(first, K0) ^ Math.imul(second, K1)) >>> 2;
};

/** A set of random byte strings (one per hint: adding a string replaces another with its hint). */
export class RandomBytesSet {
  private readonly members = new Map<number, Uint8Array>();

  has(bytes: Uint8Array): boolean {
    const member = this.members.get(bytesHint(bytes));
    return member !== undefined && sameBytes(member, bytes);
  }

  /** Keeps a copy: the caller's bytes may be a view of a buffer that is reused. */
  add(bytes: Uint8Array): void {
    this.members.set(bytesHint(bytes), copyOf(bytes));
  }

  clear(): void {
    this.members.clear();
  }
}
