// Encoding through one reused writer per thread. `Type.encode(message).finish()` starts a fresh
// 128-byte buffer and doubles it, copying, until the message fits; a queue message goes through three
// buffers before its final copy. Encoding is synchronous, so one scratch writer serves every call;
// finish() still returns a copy of its own.
import $protobuf from 'protobufjs/minimal.js';
import './protobuf-setup.js';

/** A scratch buffer grown past this by an unusually large message is let go rather than kept. */
const KEEP_BYTES = 64 * 1024;

let scratch = $protobuf.Writer.create();

/** A generated message type (its static encode takes an optional writer). */
export interface Encodable<T> {
  encode(message: T, writer?: $protobuf.Writer): { finish(): Uint8Array };
}

export function encodeMessage<T>(type: Encodable<T>, message: T): Uint8Array {
  try {
    return type.encode(message, scratch).finish();
  } finally {
    // Also after an encode that threw half-way (which may have left forks open).
    scratch.pos = 0;
    scratch.states = null;
    if (scratch.buf.length > KEEP_BYTES) scratch = $protobuf.Writer.create();
  }
}
