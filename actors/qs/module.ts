// The Queuing Service module: user records, client records with their queues and KeyPackages, the
// local fan-out entry point, the public keys, and the live-listening WebSocket stream "qs-listen".
import { hs } from '../../schemas/index.js';
import { badRequest } from '../../protocol/errors.js';
import { readToken } from '../../protocol/qs/auth-token.js';
import { idKey } from '../../protocol/qs/ids.js';
import { exportedModule, methodsOf, statelessKind, type ActorKind, type ModuleDefinition, type ModuleDeps, type ModuleFactory, type Stateless } from '../runtime/actor-kind.js';
import { clientQueueKind } from './client-queue.js';
import { listenSubject, QS_MODULE, type QsContext } from './context.js';
import { fanOutKind } from './fanout.js';
import { loadServerKeys } from './server-keys.js';
import { readQsSettings } from './settings.js';
import { userRecordKind } from './user-record.js';

const q = hs.qs;
export const QS_LISTEN_STREAM = 'qs-listen';

/** Answers GetPublicKeys from memory; the one actor of this kind never persists anything. */
function publicKeysKind(ctx: QsContext): ActorKind<Stateless> {
  const method = methodsOf<Stateless>();
  return statelessKind('qs-public-keys', {
    GetPublicKeys: method({
      access: 'public', request: q.GetPublicKeysRequest, response: q.GetPublicKeysReply, keyOf: () => 'keys',
      handle: () => ({ reply: { queueConfigEncryptionKey: ctx.keys.queueConfig.publicKey, verifyingKey: ctx.keys.signing.publicKey } }),
    }),
  });
}

export const qsModule: ModuleFactory = exportedModule(async (deps: ModuleDeps): Promise<ModuleDefinition> => {
  const settings = readQsSettings(deps.env);
  const operatorKey = deps.operatorKey();
  const keys = await loadServerKeys(deps.orm, operatorKey);
  const ctx: QsContext = { domain: deps.domain, settings, keys, operatorKey, orm: deps.orm, actors: deps.actors, bus: deps.bus, log: deps.log };
  return {
    name: QS_MODULE,
    kinds: [userRecordKind(ctx), clientQueueKind(ctx), fanOutKind(ctx), publicKeysKind(ctx)],
    streams: {
      // First frame: a SignedRequest over ListenParams by the queue's owner (method name "Listen").
      [QS_LISTEN_STREAM]: async (frame) => {
        let request: hs.qs.SignedRequest;
        try {
          request = q.SignedRequest.decode(frame);
        } catch {
          throw badRequest('the first frame must be a SignedRequest');
        }
        const { sender } = readToken(request);
        if (sender.kind !== 'pcid') throw badRequest('listening needs a QsAuthToken for the queue (PCID)');
        await deps.actors.call(QS_MODULE, idKey(sender.id), 'AuthorizeListen', frame);
        return listenSubject(deps.domain, sender.id);
      },
    },
  };
}, import.meta.url, 'qsModule');
