// The QS-signed KeyPackageBatch: the references of the KeyPackages handed out together, with the QS
// domain and a timestamp, so a DS can later check that the KeyPackages added to a group came from the
// user's QS recently.
import { hs } from '../../schemas/index.js';
import { signLabelled, verifyLabelled } from '../crypto/index.js';

export const KEY_PACKAGE_BATCH_LABEL = 'qs/key-package-batch';

export function signKeyPackageBatch(signingKey: Uint8Array, domain: string, refs: Uint8Array[], nowMs = Date.now()): hs.qs.IKeyPackageBatch {
  const tbs = hs.qs.KeyPackageBatchTbs.encode({ domain, keyPackageRefs: refs, timestampMs: nowMs }).finish();
  return { tbs, signature: signLabelled(signingKey, KEY_PACKAGE_BATCH_LABEL, tbs) };
}

/** The batch's contents if the signature verifies under `verifyingKey`, else undefined. */
export function verifyKeyPackageBatch(verifyingKey: Uint8Array, batch: hs.qs.IKeyPackageBatch): hs.qs.KeyPackageBatchTbs | undefined {
  const tbs = batch.tbs ?? new Uint8Array();
  if (!verifyLabelled(verifyingKey, KEY_PACKAGE_BATCH_LABEL, tbs, batch.signature ?? new Uint8Array())) return undefined;
  try {
    return hs.qs.KeyPackageBatchTbs.decode(tbs);
  } catch {
    return undefined;
  }
}
