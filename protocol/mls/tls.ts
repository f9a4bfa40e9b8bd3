// Minimal TLS presentation-language codec (RFC 9420 §2.1.2 variable-length vectors) for the few
// structures the view encodes itself: hash inputs, parent nodes and the snapshot. Everything else is
// decoded by ts-mls through the adapter.
import { MlsErrorCode, MlsValidationError } from './errors.js';

export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v;
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v & 0xff);
  }
  u32(v: number): this {
    return this.u16(v >>> 16).u16(v & 0xffff);
  }
  u64(v: bigint): this {
    return this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn));
  }
  varint(v: number): this {
    if (v < 0x40) return this.u8(v);
    if (v < 0x4000) return this.u16(0x4000 | v);
    if (v < 0x40000000) return this.u32((0x80000000 | v) >>> 0);
    throw new MlsValidationError(MlsErrorCode.Malformed, 'vector too long');
  }
  raw(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  /** opaque data<V> */
  vec(b: Uint8Array): this {
    return this.varint(b.length).raw(b);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class Reader {
  offset = 0;
  constructor(private readonly b: Uint8Array) {}

  private need(n: number): void {
    if (this.offset + n > this.b.length) throw new MlsValidationError(MlsErrorCode.Malformed, 'truncated input');
  }
  u8(): number {
    this.need(1);
    return this.b[this.offset++]!;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  u32(): number {
    return ((this.u16() << 16) >>> 0) + this.u16();
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  varint(): number {
    const first = this.u8();
    const prefix = first >> 6;
    if (prefix === 0) return first;
    if (prefix === 1) return ((first & 0x3f) << 8) | this.u8();
    if (prefix === 2) {
      const v = (((first & 0x3f) << 24) >>> 0) + (this.u8() << 16) + (this.u8() << 8) + this.u8();
      if (v < 0x4000) throw new MlsValidationError(MlsErrorCode.Malformed, 'non-minimal varint');
      return v;
    }
    throw new MlsValidationError(MlsErrorCode.Malformed, 'invalid varint prefix');
  }
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.b.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  vec(): Uint8Array {
    return this.raw(this.varint());
  }
  get done(): boolean {
    return this.offset === this.b.length;
  }
  end(): void {
    if (!this.done) throw new MlsValidationError(MlsErrorCode.Malformed, 'trailing bytes');
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
