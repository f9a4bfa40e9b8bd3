// The Queuing Service module: user records, client records with their queues and KeyPackages, the
// local fan-out entry point, the public keys, and the live-listening WebSocket stream "qs-listen".
import { hs } from '../../schemas/index.js';
import { badRequest } from '../../protocol/errors.js';
import { readToken } from '../../protocol/qs/auth-token.js';
import { idKey } from '../../protocol/qs/ids.js';
import { exportedModule, methodsOf, statelessKind, type ActorKind, type ModuleDefinition, type ModuleDeps, type ModuleFactory, type Stateless } from '../runtime/actor-kind.js';
import { clientQueueKind } from './client-queue.js';
import { callQs, listenSubject, QS_MODULE, type QsContext } from './context.js';
import { ListenLeases } from './listen-leases.js';
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
  const ctx: QsContext = {
    domain: deps.domain, settings, keys, operatorKey, orm: deps.orm, actors: deps.actors, bus: deps.bus, log: deps.log,
    listening: new ListenLeases(settings.listenLeaseMs),
  };
  return {
    name: QS_MODULE,
    kinds: [userRecordKind(ctx), clientQueueKind(ctx), fanOutKind(ctx), publicKeysKind(ctx)],
    streams: {
      // First frame: a SignedRequest over ListenParams by the queue's owner (method name "Listen"). The
      // queue publishes on the bus only while its listen lease holds, which the gateway renews.
      [QS_LISTEN_STREAM]: async (frame) => {
        let request: hs.qs.SignedRequest;
        try {
          request = q.SignedRequest.decode(frame);
        } catch {
          throw badRequest('the first frame must be a SignedRequest');
        }
        const { sender } = readToken(request);
        if (sender.kind !== 'pcid') throw badRequest('listening needs a QsAuthToken for the queue (PCID)');
        const queue = idKey(sender.id);
        await deps.actors.call(QS_MODULE, queue, 'AuthorizeListen', frame);
        const run = async (): Promise<void> => {
          await callQs(ctx, queue, 'RenewListen', { pcid: sender.id }, q.QueueKeyRequest, q.Empty);
        };
        return { subject: listenSubject(deps.domain, sender.id), renew: { everyMs: settings.listenLeaseMs / 3, run } };
      },
    },
  };
}, import.meta.url, 'qsModule');
