// The QS key pairs (queue-config HPKE key, signing key), shared by every node of the homeserver: created
// once by whichever node starts first, stored sealed under the operator key, read by the others.
import type { MikroORM } from '@mikro-orm/core';
import { hs } from '../../schemas/index.js';
import { generateHpkeKeyPair, generateSigningKeyPair, hpkePublicKey, signingPublicKey, type HpkeKeyPair, type SigningKeyPair } from '../../protocol/crypto/index.js';
import type { OperatorKey } from '../runtime/operator-key.js';

const ROW_ID = 'current';
const PURPOSE = 'qs-server-keys';

export interface QsServerKeys {
  queueConfig: HpkeKeyPair;
  signing: SigningKeyPair;
}

export async function loadServerKeys(orm: MikroORM, operatorKey: OperatorKey): Promise<QsServerKeys> {
  const connection = orm.em.getConnection();
  const read = async () => (await connection.execute<{ sealed: Buffer }[]>('select sealed from qs_server_keys where id = ?', [ROW_ID]))[0];
  let row = await read();
  if (!row) {
    const fresh = hs.qs.ServerKeys.encode({
      queueConfigPrivateKey: generateHpkeKeyPair().privateKey, signingPrivateKey: generateSigningKeyPair().privateKey,
    }).finish();
    // Two nodes starting together: the first insert wins and both read it back.
    await connection.execute('insert into qs_server_keys (id, sealed) values (?, ?) on conflict do nothing',
      [ROW_ID, Buffer.from(operatorKey.seal(PURPOSE, fresh))], 'run');
    row = await read();
  }
  const keys = hs.qs.ServerKeys.decode(operatorKey.open(PURPOSE, new Uint8Array(row!.sealed)));
  return {
    queueConfig: { privateKey: keys.queueConfigPrivateKey, publicKey: hpkePublicKey(keys.queueConfigPrivateKey) },
    signing: { privateKey: keys.signingPrivateKey, publicKey: signingPublicKey(keys.signingPrivateKey) },
  };
}
