// Checks on a published KeyPackageTuple: a well-formed, correctly signed MLS KeyPackage of the
// project's ciphersuite, carrying a QueueConfig extension for this homeserver; whether it is a
// KeyPackage of last resort; and its reference (for the signed KeyPackageBatch).
import { hs } from '../../schemas/index.js';
import { badRequest } from '../errors.js';
import { codec, crypto, extensionNumber, suiteFromId } from '../mls/tsmls.js';
import { MlsValidationError } from '../mls/errors.js';
import { MLS_CIPHERSUITE_ID, MLS_CIPHERSUITE_NAME, MlsExtensionType } from '../mls-profile.js';

export interface CheckedKeyPackage {
  ref: Uint8Array;
  lastResort: boolean;
}

export async function checkKeyPackageTuple(tuple: hs.qs.IKeyPackageTuple, domain: string): Promise<CheckedKeyPackage> {
  let message;
  try {
    message = codec.decodeMessage(tuple.keyPackage ?? new Uint8Array());
  } catch (error) {
    if (error instanceof MlsValidationError) throw badRequest('KeyPackage is not a well-formed MLSMessage');
    throw error;
  }
  if (message.wireformat !== 'mls_key_package') throw badRequest('KeyPackage tuple must carry an MLSMessage of wire format mls_key_package');
  const keyPackage = message.keyPackage;
  if (keyPackage.cipherSuite !== MLS_CIPHERSUITE_NAME) throw badRequest(`KeyPackages must use ciphersuite ${MLS_CIPHERSUITE_ID}`);
  const suite = await suiteFromId(MLS_CIPHERSUITE_ID);
  if (!await crypto.verifyKeyPackage(keyPackage, suite) || !await crypto.verifyKeyPackageLeaf(keyPackage.leafNode, suite)) {
    throw badRequest('KeyPackage signature does not verify');
  }
  const types = keyPackage.extensions.map(extensionNumber);
  const queueConfig = keyPackage.extensions.filter((_, i) => types[i] === MlsExtensionType.QUEUE_CONFIG);
  if (queueConfig.length !== 1) throw badRequest('every KeyPackage must carry exactly one QueueConfig extension');
  let config: hs.qs.ClientQueueConfig;
  try {
    config = hs.qs.ClientQueueConfig.decode(queueConfig[0]!.extensionData);
  } catch {
    throw badRequest('malformed QueueConfig extension');
  }
  if (config.clientHomeserverDomain !== domain) throw badRequest(`QueueConfig extension must name this homeserver (${domain})`);
  if (!config.sealedConfig?.enc?.length || !config.sealedConfig.ciphertext?.length) throw badRequest('QueueConfig extension carries no sealed config');
  return { ref: await crypto.keyPackageRef(keyPackage, suite), lastResort: types.includes(MlsExtensionType.LAST_RESORT) };
}
