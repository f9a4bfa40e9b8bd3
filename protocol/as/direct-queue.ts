// Direct queue messages at rest: the AS seals each message on arrival to the owning client's queue
// encryption key (HPKE base mode), binding the client id and sequence number, so neither a database dump
// nor the server itself can read queued messages afterwards, and a message moved to another queue or
// position does not open.
import { hs } from '../../schemas/index.js';
import { hpkeOpen, hpkeSeal, type HpkeKeyPair } from '../crypto/index.js';
import { badRequest } from '../errors.js';

const INFO = new TextEncoder().encode('mls-homeserver/v1/as-direct-queue');

const aadOf = (clientId: string, sequenceNumber: number): Uint8Array => new TextEncoder().encode(`${clientId}#${sequenceNumber}`);

export async function sealDirectMessage(queueEncryptionKey: Uint8Array, clientId: string, sequenceNumber: number, message: Uint8Array): Promise<Uint8Array> {
  const sealed = await hpkeSeal(queueEncryptionKey, INFO, aadOf(clientId, sequenceNumber), message);
  return hs.as.DirectQueueCiphertext.encode(sealed).finish();
}

/** Throws BAD_REQUEST when the message was not sealed to this key, client and position. */
export async function openDirectMessage(queueKeyPair: HpkeKeyPair, clientId: string, sequenceNumber: number, stored: Uint8Array): Promise<Uint8Array> {
  try {
    const sealed = hs.as.DirectQueueCiphertext.decode(stored);
    // Plain copies: decoded fields may be views into a larger buffer.
    return await hpkeOpen(queueKeyPair, INFO, aadOf(clientId, sequenceNumber), { enc: Uint8Array.from(sealed.enc), ciphertext: Uint8Array.from(sealed.ciphertext) });
  } catch {
    throw badRequest(`direct queue message ${sequenceNumber} does not open with this client's queue key`);
  }
}
