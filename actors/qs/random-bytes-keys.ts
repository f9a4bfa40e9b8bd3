// Finding random byte strings (HPKE encs: X25519 public keys, fresh per sealing) in maps without a
// string key per lookup: building and hashing a hex or base64 key cost about a microsecond per queue
// message on the enqueue path. A number from the first six bytes is the map key; a hit still compares
// every byte, so a string crafted to share another's number is only a miss (and may push the other
// out), never a false match.

/** Byte by byte: for the few hundred bytes compared here a loop costs less than a call into native
 *  code (Buffer.compare took about 0.35 µs a call on the enqueue path). Not constant-time: only for
 *  values that are not secret. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/** A copy that owns its memory. (Not `slice()`: on a Buffer, as protobufjs decodes bytes fields,
 *  that is a view of the same memory.) */
export const copyOf = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/** The map key of `bytes`: its first six bytes as a number (distinct negative ones for shorter
 *  strings). */
export const bytesHint = (bytes: Uint8Array): number =>
  (bytes.length < 6
    ? -1 - bytes.length
    : (bytes[0]! * 65536 + bytes[1]! * 256 + bytes[2]!) * 16777216 + (bytes[3]! * 65536 + bytes[4]! * 256 + bytes[5]!));

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
