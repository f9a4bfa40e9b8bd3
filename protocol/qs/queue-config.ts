// Sealed queue configs. A client seals its queue's config for its own QS; a DS passes the sealed bytes
// on with each fan-out without learning which queue they name. Two layers: the outer one (HPKE base
// mode to the QS queue-config key) names the PCID so the QS can route; the inner one (HPKE auth mode,
// sender = the queue encryption key pair) proves the queue's owner made it, so holding a config of
// one's own making for someone else's PCID does not let anyone enqueue (docs/decisions.md).
import { hs } from '../../schemas/index.js';
import { hpkeOpen, hpkeSeal, HpkeOpenError, type HpkeKeyPair } from '../crypto/index.js';
import { ID_BYTES } from './ids.js';

const OUTER_INFO = new TextEncoder().encode('mls-homeserver/qs/queue-config');
const INNER_INFO = new TextEncoder().encode('mls-homeserver/qs/queue-config/owner');
const EMPTY = new Uint8Array();

export interface QueueConfigInput {
  domain: string;
  /** The QS queue-config encryption key (GetPublicKeys). */
  qsPublicKey: Uint8Array;
  pcid: Uint8Array;
  /** The queue encryption key pair registered for the queue. */
  owner: HpkeKeyPair;
  pushTokenKey?: Uint8Array;
}

export async function sealQueueConfig(input: QueueConfigInput): Promise<hs.qs.IClientQueueConfig> {
  const config = hs.qs.QueueConfig.encode({ pushTokenKey: input.pushTokenKey ?? EMPTY }).finish();
  const inner = await hpkeSeal(input.qsPublicKey, INNER_INFO, input.pcid, config, input.owner);
  const envelope = hs.qs.QueueConfigEnvelope.encode({ pcid: input.pcid, authEnc: inner.enc, authCiphertext: inner.ciphertext }).finish();
  const outer = await hpkeSeal(input.qsPublicKey, OUTER_INFO, EMPTY, envelope);
  return { clientHomeserverDomain: input.domain, sealedConfig: { enc: outer.enc, ciphertext: outer.ciphertext } };
}

export class QueueConfigError extends Error {
  override readonly name = 'QueueConfigError';
}

/** Opens the outer layer (QS side). Throws QueueConfigError. */
export async function openQueueConfigEnvelope(qsKeyPair: HpkeKeyPair, sealed: hs.qs.ISealedQueueConfig): Promise<hs.qs.QueueConfigEnvelope> {
  let envelope: hs.qs.QueueConfigEnvelope;
  try {
    const plain = await hpkeOpen(qsKeyPair, OUTER_INFO, EMPTY, { enc: sealed.enc ?? EMPTY, ciphertext: sealed.ciphertext ?? EMPTY });
    envelope = hs.qs.QueueConfigEnvelope.decode(plain);
  } catch (error) {
    throw new QueueConfigError(error instanceof HpkeOpenError ? 'queue config does not open with this QS key' : 'malformed queue config');
  }
  if (envelope.pcid.length !== ID_BYTES) throw new QueueConfigError('queue config names no valid queue');
  return envelope;
}

/** Opens the inner layer with the queue's registered owner key (QS side). Throws QueueConfigError. */
export async function openOwnerConfig(qsKeyPair: HpkeKeyPair, ownerPublicKey: Uint8Array, envelope: { pcid: Uint8Array; authEnc: Uint8Array; authCiphertext: Uint8Array }): Promise<hs.qs.QueueConfig> {
  try {
    const plain = await hpkeOpen(qsKeyPair, INNER_INFO, envelope.pcid, { enc: envelope.authEnc, ciphertext: envelope.authCiphertext }, ownerPublicKey);
    return hs.qs.QueueConfig.decode(plain);
  } catch {
    throw new QueueConfigError('queue config was not sealed by the queue owner');
  }
}
