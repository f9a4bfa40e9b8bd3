// Local enqueue (DS -> QS). A fan-out actor opens each sealed queue config (or finds it in this thread's
// routing cache) and hands the message to the queues' actors, which store it and tell their live
// listeners: through this thread's coalescer for the queues this thread serves, and in one call per
// other thread of the node for the rest. Fan-out actors hold no state; the caller spreads its requests
// over many of them (fanOutKey) so that fan-outs run in parallel.
import { hs } from '../../schemas/index.js';
import { badRequest } from '../../protocol/errors.js';
import { idKey, requireId } from '../../protocol/qs/ids.js';
import { randomBytes } from '../../protocol/crypto/index.js';
import { openQueueConfigEnvelope, QueueConfigError } from '../../protocol/qs/queue-config.js';
import { methodsOf, statelessKind, type ActorKind, type Stateless } from '../runtime/actor-kind.js';
import { EnqueueCoalescer } from './coalescer.js';
import { bytesHint, copyOf, sameBytes } from './random-bytes-keys.js';
import { QS_MODULE, type QsContext } from './context.js';
import type { ActorClient } from '../../transport/envelope.js';

const q = hs.qs;
const EMPTY = new Uint8Array();
const FAN_OUT_ACTORS = 1024;

/** A fan-out actor for one request: any of them will do. */
export function fanOutKey(): string {
  return `fanout-${randomBytes(2).reduce((a, b) => a * 256 + b, 0) % FAN_OUT_ACTORS}`;
}

/** A fan-out actor on the caller's thread when the node serves the QS here (fan-outs hold no state,
 *  so none is better placed than the one the request need not travel to); any otherwise. */
function fanOutKeyHere(actors: ActorClient): string {
  const placement = actors.placementOf(QS_MODULE);
  // With many threads a thread may own few of the shards the keys fall into: after a few misses, any.
  for (let tries = 0; placement && tries < 64; tries++) {
    const key = fanOutKey();
    if (placement.threadOf(key) === placement.thread) return key;
  }
  return fanOutKey();
}

const LOCAL_ENQUEUE = { request: q.LocalEnqueueRequest, reply: q.LocalEnqueueReply };
const ENQUEUE_HERE = { request: q.ThreadEnqueueRequest, reply: q.EnqueueReply };

/** What became of a fan-out: configs whose queue is gone (the DS should drop them) and the indexes of
 *  configs that were refused. */
export interface LocalEnqueueOutcome {
  queueDeleted: hs.qs.IQueueDeleted[];
  rejected: number[];
}

/** How the DS enqueues a fan-out message on its own homeserver. A typed call: within the node the
 *  request is handed over, not encoded, so it must not change until the reply has come. */
export async function localEnqueue(actors: ActorClient, request: hs.qs.ILocalEnqueueRequest): Promise<LocalEnqueueOutcome> {
  const reply = await actors.callTyped(QS_MODULE, fanOutKeyHere(actors), 'LocalEnqueue', request, LOCAL_ENQUEUE);
  return { queueDeleted: reply.queueDeleted ?? [], rejected: reply.rejected ?? [] };
}

const envelopeOf = (opened: hs.qs.IQueueConfigEnvelope): Envelope => {
  const pcid = opened.pcid ?? EMPTY;
  return { pcid, queue: idKey(pcid), authEnc: opened.authEnc ?? EMPTY, authCiphertext: opened.authCiphertext ?? EMPTY };
};

/** An opened config: the queue (PCID, and its actor key, worked out once per opening) and the
 *  owner-sealed inner config its actor checks; `thread`: which of the node's threads serves the queue,
 *  once a fan-out has asked. */
type Envelope = { pcid: Uint8Array; queue: string; authEnc: Uint8Array; authCiphertext: Uint8Array; thread?: number };
type Message = { groupId: Uint8Array; payload: Uint8Array };

interface CacheEntry {
  enc: Uint8Array;
  ciphertext: Uint8Array;
  opening: Promise<Envelope>;
  /** Set once the opening has succeeded: hits then need no promise. */
  opened?: Envelope;
}

/** Opened configs, found by their HPKE `enc` (random-bytes-keys.ts), oldest first (a Map keeps
 *  insertion order). An entry holds the opening itself, so concurrent fan-outs to one config open it
 *  once, and the `enc` and ciphertext it was opened from: a config that differs in either is opened on
 *  its own (and replaces the entry). Failures are not kept. */
class ConfigCache {
  private readonly entries = new Map<number, CacheEntry>();
  constructor(private readonly capacity: number) {}

  /** The opened config: at once for a config opened before, else once `opener` has opened it.
   *  (`opener` takes `sealed` rather than closing over it: no closure per hit.) */
  open(sealed: hs.qs.ISealedQueueConfig, opener: (sealed: hs.qs.ISealedQueueConfig) => Promise<Envelope>): Envelope | Promise<Envelope> {
    const enc = sealed.enc ?? EMPTY;
    const ciphertext = sealed.ciphertext ?? EMPTY;
    const hint = bytesHint(enc);
    const cached = this.entries.get(hint);
    if (cached && sameBytes(cached.enc, enc) && sameBytes(cached.ciphertext, ciphertext)) return cached.opened ?? cached.opening;
    const opening = opener(sealed);
    if (this.capacity === 0) return opening;
    if (cached) this.entries.delete(hint);
    else if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    const entry: CacheEntry = { enc: copyOf(enc), ciphertext: copyOf(ciphertext), opening };
    this.entries.set(hint, entry);
    opening.then((envelope) => {
      entry.opened = envelope;
    }, () => {
      if (this.entries.get(hint) === entry) this.entries.delete(hint);
    });
    return opening;
  }
}

export function fanOutKind(ctx: QsContext): ActorKind<Stateless> {
  const method = methodsOf<Stateless>();
  const cache = new ConfigCache(ctx.settings.configCacheSize);
  const coalescer = new EnqueueCoalescer(ctx);

  const openSealed = async (sealed: hs.qs.ISealedQueueConfig): Promise<Envelope> => envelopeOf(await openQueueConfigEnvelope(ctx.keys.queueConfig, sealed));
  const refusedAsUndefined = (error: unknown): undefined => {
    if (error instanceof QueueConfigError) return undefined;
    throw error;
  };

  /** The config opened (at once when the cache has it), or undefined when it is to be rejected. */
  const opened = (config: hs.qs.IClientQueueConfig): Envelope | undefined | Promise<Envelope | undefined> => {
    // Federated enqueue (another homeserver's queues) is not implemented yet: such configs are refused.
    const sealed = config.sealedConfig;
    if (config.clientHomeserverDomain !== ctx.domain || !sealed) return undefined;
    const envelope = cache.open(sealed, openSealed);
    return envelope instanceof Promise ? envelope.catch(refusedAsUndefined) : envelope;
  };

  /** Hands the message to the queues of one thread, all at once: here through the coalescer, on
   *  another thread through its fan-out (EnqueueHere, addressed like the first of those queues). */
  const enqueueOnThread = async (envelopes: Envelope[], message: Message, here: boolean): Promise<hs.qs.EnqueueStatus[]> => {
    if (here) {
      return coalescer.enqueueAll(envelopes.map((envelope) => ({
        key: envelope.queue, pcid: envelope.pcid,
        item: { groupId: message.groupId, payload: message.payload, authEnc: envelope.authEnc, authCiphertext: envelope.authCiphertext },
      })));
    }
    const request: hs.qs.IThreadEnqueueRequest = { ...message, queues: envelopes };
    const reply = await ctx.actors.callTyped(QS_MODULE, envelopes[0]!.queue, 'EnqueueHere', request, ENQUEUE_HERE);
    return reply.statuses ?? [];
  };

  return statelessKind('qs-fan-out', {
    LocalEnqueue: method({
      access: 'internal', request: q.LocalEnqueueRequest, response: q.LocalEnqueueReply, keyOf: fanOutKey,
      // Typed calls hand over the caller's object as it is: absent fields are read as their defaults.
      handle: async (_state, request: hs.qs.ILocalEnqueueRequest, actor) => {
        const configs = request.clientQueueConfigs ?? [];
        const payload = request.payload ?? EMPTY;
        if (configs.length === 0) throw badRequest('no client queue configs');
        if (payload.length === 0 || payload.length > ctx.settings.maxMessageBytes) {
          throw badRequest(`payload must be 1 to ${ctx.settings.maxMessageBytes} bytes`);
        }
        const message: Message = { groupId: request.groupId ?? EMPTY, payload };
        const openings = configs.map(opened);
        // Usually every config is in the cache: no promise to wait for.
        const envelopes = openings.some((opening) => opening instanceof Promise) ? await Promise.all(openings) : openings as (Envelope | undefined)[];
        // The opened configs by the thread of the node that serves their queues (one group when the
        // node has one thread, or the QS is reached over the bus).
        const placement = ctx.actors.placementOf(QS_MODULE);
        const here = placement?.threadOf(actor.key);
        const byThread = new Map<number | undefined, number[]>();
        envelopes.forEach((envelope, index) => {
          if (!envelope) return;
          const thread = placement && (envelope.thread ??= placement.threadOf(envelope.queue));
          const indexes = byThread.get(thread);
          if (indexes) indexes.push(index);
          else byThread.set(thread, [index]);
        });
        const statuses = new Array<hs.qs.EnqueueStatus | undefined>(configs.length);
        await Promise.all([...byThread].map(async ([thread, indexes]) => {
          const results = await enqueueOnThread(indexes.map((index) => envelopes[index]!), message, thread === here);
          indexes.forEach((index, i) => { statuses[index] = results[i]; });
        }));
        const reply: hs.qs.ILocalEnqueueReply = { queueDeleted: [], rejected: [] };
        // Unopened configs have no status: rejected, like any status but these three.
        for (let index = 0; index < configs.length; index++) {
          switch (statuses[index]) {
            case q.EnqueueStatus.ENQUEUED: break;
            case q.EnqueueStatus.BLOCKED: break; // dropped silently: the DS must not learn blocklists
            case q.EnqueueStatus.NO_SUCH_QUEUE:
              reply.queueDeleted!.push({ clientQueueConfig: configs[index], groupId: message.groupId });
              break;
            default: reply.rejected!.push(index);
          }
        }
        return { reply };
      },
    }),

    /** From a fan-out on another thread: the message for queues this thread serves. */
    EnqueueHere: method({
      access: 'internal', request: q.ThreadEnqueueRequest, response: q.EnqueueReply, keyOf: (request) => idKey(requireId(request.queues[0]?.pcid, 'pcid')),
      handle: async (_state, request) => {
        const message: Message = { groupId: request.groupId, payload: request.payload };
        const envelopes = request.queues.map(envelopeOf);
        return { reply: { statuses: await enqueueOnThread(envelopes, message, true) } };
      },
    }),
  });
}
