// Local enqueue (DS -> QS). A fan-out actor opens each sealed queue config (or finds it in this node's
// routing cache) and hands the message to the queue's actor, which stores it and tells the queue's live
// listener. Fan-out actors hold no state; the caller spreads its requests over many of them
// (fanOutKey) so that fan-outs run in parallel.
import { encodeMessage, hs } from '../../schemas/index.js';
import { badRequest } from '../../protocol/errors.js';
import { randomBytes } from '../../protocol/crypto/index.js';
import { openQueueConfigEnvelope, QueueConfigError } from '../../protocol/qs/queue-config.js';
import { methodsOf, statelessKind, type ActorKind, type Stateless } from '../runtime/actor-kind.js';
import { EnqueueCoalescer } from './coalescer.js';
import { QS_MODULE, type QsContext } from './context.js';
import type { ActorClient } from '../../transport/envelope.js';

const q = hs.qs;
const FAN_OUT_ACTORS = 1024;

/** A fan-out actor for one request: any of them will do. */
export function fanOutKey(): string {
  return `fanout-${randomBytes(2).reduce((a, b) => a * 256 + b, 0) % FAN_OUT_ACTORS}`;
}

/** How the DS enqueues a fan-out message on its own homeserver. */
export async function localEnqueue(actors: ActorClient, request: hs.qs.ILocalEnqueueRequest): Promise<hs.qs.LocalEnqueueReply> {
  const reply = await actors.call(QS_MODULE, fanOutKey(), 'LocalEnqueue', encodeMessage(q.LocalEnqueueRequest, request));
  return q.LocalEnqueueReply.decode(reply);
}

const bytesKey = (bytes: Uint8Array | null | undefined): string =>
  (bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : '');

type Envelope = { pcid: Uint8Array; authEnc: Uint8Array; authCiphertext: Uint8Array };

/** Opened configs by their sealed bytes, oldest first (a Map keeps insertion order). Holds
 *  the opening itself, so concurrent fan-outs to one config open it once; failures are not kept. */
class ConfigCache {
  private readonly entries = new Map<string, Promise<Envelope>>();
  constructor(private readonly capacity: number) {}

  open(id: string, opener: () => Promise<Envelope>): Promise<Envelope> {
    const cached = this.entries.get(id);
    if (cached) return cached;
    const opening = opener();
    if (this.capacity === 0) return opening;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, opening);
    opening.catch(() => this.entries.delete(id));
    return opening;
  }
}

export function fanOutKind(ctx: QsContext): ActorKind<Stateless> {
  const method = methodsOf<Stateless>();
  const cache = new ConfigCache(ctx.settings.configCacheSize);
  const coalescer = new EnqueueCoalescer(ctx);

  const open = (sealed: hs.qs.ISealedQueueConfig): Promise<Envelope> => {
    // The sealed bytes themselves are the key (a string Map lookup is cheaper than hashing them first);
    // any change to them is another entry, which must open on its own.
    const id = `${bytesKey(sealed.enc)}.${bytesKey(sealed.ciphertext)}`;
    return cache.open(id, () => openQueueConfigEnvelope(ctx.keys.queueConfig, sealed));
  };

  /** The outcome for one config: stored, or to be reported as deleted or rejected. */
  const deliver = async (config: hs.qs.IClientQueueConfig, request: hs.qs.LocalEnqueueRequest): Promise<'ok' | 'deleted' | 'rejected'> => {
    // Federated enqueue (another homeserver's queues) is not implemented yet: such configs are refused.
    if (config.clientHomeserverDomain !== ctx.domain || !config.sealedConfig) return 'rejected';
    let envelope: Envelope;
    try {
      envelope = await open(config.sealedConfig);
    } catch (error) {
      if (error instanceof QueueConfigError) return 'rejected';
      throw error;
    }
    const status = await coalescer.enqueue(envelope.pcid, {
      groupId: request.groupId, payload: request.payload, authEnc: envelope.authEnc, authCiphertext: envelope.authCiphertext,
    });
    switch (status) {
      case q.EnqueueStatus.ENQUEUED: return 'ok';
      case q.EnqueueStatus.BLOCKED: return 'ok'; // dropped silently: the DS must not learn blocklists
      case q.EnqueueStatus.NO_SUCH_QUEUE: return 'deleted';
      default: return 'rejected';
    }
  };

  return statelessKind('qs-fan-out', {
    LocalEnqueue: method({
      access: 'internal', request: q.LocalEnqueueRequest, response: q.LocalEnqueueReply, keyOf: fanOutKey,
      handle: async (_state, request) => {
        if (request.clientQueueConfigs.length === 0) throw badRequest('no client queue configs');
        if (request.payload.length === 0 || request.payload.length > ctx.settings.maxMessageBytes) {
          throw badRequest(`payload must be 1 to ${ctx.settings.maxMessageBytes} bytes`);
        }
        const outcomes = await Promise.all(request.clientQueueConfigs.map((config) => deliver(config, request)));
        const reply: hs.qs.ILocalEnqueueReply = { queueDeleted: [], rejected: [] };
        outcomes.forEach((outcome, index) => {
          if (outcome === 'deleted') reply.queueDeleted!.push({ clientQueueConfig: request.clientQueueConfigs[index], groupId: request.groupId });
          if (outcome === 'rejected') reply.rejected!.push(index);
        });
        return { reply };
      },
    }),
  });
}
