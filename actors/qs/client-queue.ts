// The client-record actor, one per PCID: the client's auth and queue encryption keys, its blocklist,
// its KeyPackages (rows in qs_key_package) and its fan-out queue (sequence counter and ratchet in the
// snapshot, messages in qs_message, written in the same transaction). One message at a time per
// queue, so sequence numbers are consecutive without any lock. Enqueue is journaled: it writes only
// message rows, and now and then the last one carries the sealed queue head (ratchet key and key-update
// schedule); catchUp folds the newest head, and the ratchet steps of the messages after it, into the
// snapshot on activation. Every other change writes the snapshot.
import { encodeMessage, hs } from '../../schemas/index.js';
import { seenFromWire, type SeenValue } from '../../protocol/replay-window.js';
import { badRequest, conflict, notFound } from '../../protocol/errors.js';
import { randomBytes, sha256, toHex } from '../../protocol/crypto/index.js';
import { idFromKey, idKey, requireId, requireKey } from '../../protocol/qs/ids.js';
import { checkKeyPackageTuple } from '../../protocol/qs/key-package.js';
import { applyKeyUpdate, newRatchetKey, sealMessage, sealRatchetSecret, step } from '../../protocol/qs/ratchet.js';
import { openOwnerConfig, QueueConfigError } from '../../protocol/qs/queue-config.js';
import { methodsOf, type ActorContext, type ActorKind, type Outcome, type RecordWrite } from '../runtime/actor-kind.js';
import { authenticate, senderKey } from './auth.js';
import { RandomBytesSet } from './random-bytes-keys.js';
import { listenSubject, type QsContext } from './context.js';
import { deleteKeyPackage, deleteKeyPackagesBefore, deleteMessagesBefore, deleteQueueRows, insertKeyPackage, insertMessages, journalTail, nextKeyPackage, readMessages, type MessageRow } from './tables.js';

const q = hs.qs;
const Kind = q.QueueMessageKind;
const RATCHET_PURPOSE = 'qs-queue-ratchet';
const HEAD_PURPOSE = 'qs-queue-head';
const SALT_BYTES = 16;

export interface QueueState {
  exists: boolean;
  puid: Uint8Array;
  authKey: Uint8Array;
  queueKey: Uint8Array;
  nextSeq: number;
  /** Sequence numbers below this were dequeued (deleted). */
  firstSeq: number;
  /** In memory only in the clear; sealed under the operator key in the snapshot. */
  ratchetKey: Uint8Array;
  sinceUpdate: number;
  lastUpdateMs: number;
  salt: Uint8Array;
  blocklist: Uint8Array[];
  blocked: Set<string>;
  lastActivityMs: number;
  seenTokens: SeenValue[];
  /** The live-listener subject, worked out once per activation (never persisted). */
  listenSubject: string | undefined;
  /** The PCID as bytes, decoded from the actor key once per activation (never persisted). */
  pcid: Uint8Array | undefined;
  /** The `auth_enc` of owner-sealed configs already checked in this activation (never persisted). */
  verifiedConfigs: RandomBytesSet;
  /** The newest sequence number whose ratchet state the database holds, as a head or in the snapshot
   *  (never persisted: activation works it out). */
  headSeq: number;
  /** A key update since headSeq: the next journaled write must carry a head, since catchUp can only
   *  step the ratchet over plain messages (never persisted). */
  headDue: boolean;
  /** The current KeyPackage publication is positions [kpFloor, kpNext). */
  kpFloor: number;
  kpNext: number;
  /** Positions handed out in this activation: their deletion may still be in flight (never persisted). */
  kpTaken: Set<number>;
}

const EMPTY = new Uint8Array();
const blocklistHash = (salt: Uint8Array, groupId: Uint8Array): Uint8Array => {
  const input = new Uint8Array(salt.length + groupId.length);
  input.set(salt);
  input.set(groupId, salt.length);
  return sha256(input);
};

function absent(): QueueState {
  return {
    exists: false, puid: EMPTY, authKey: EMPTY, queueKey: EMPTY, nextSeq: 0, firstSeq: 0, ratchetKey: EMPTY, sinceUpdate: 0,
    lastUpdateMs: 0, salt: EMPTY, blocklist: [], blocked: new Set(), lastActivityMs: 0, seenTokens: [], listenSubject: undefined, pcid: undefined, verifiedConfigs: new RandomBytesSet(),
    headSeq: 0, headDue: false, kpFloor: 0, kpNext: 0, kpTaken: new Set(),
  };
}

function requireQueue(state: QueueState): void {
  if (!state.exists) throw notFound('no such client record');
}

/** Appends a KEY_UPDATE (fresh randomness sealed to the queue key) and moves the ratchet on. */
async function keyUpdate(state: QueueState, pcid: Uint8Array, rows: MessageRow[]): Promise<void> {
  const fresh = randomBytes(32);
  const message = await sealRatchetSecret(state.queueKey, pcid, state.nextSeq, Kind.KEY_UPDATE, fresh);
  state.ratchetKey = applyKeyUpdate(state.ratchetKey, fresh);
  fresh.fill(0);
  append(state, message, rows);
  state.sinceUpdate = 0;
  state.lastUpdateMs = Date.now();
  state.headDue = true;
}

/** Gives `message` the next sequence number; its row goes into `rows` (see stored). */
function append(state: QueueState, message: hs.qs.IQueueMessage, rows: MessageRow[]): void {
  rows.push({ seq: state.nextSeq, data: encodeMessage(q.QueueMessage, message) });
  state.nextSeq++;
}

/** Publishes the rows to the live listener's subject. (A returned arrow: tsx names, at a cost, every
 *  closure assigned to a name or property, and this one is made on every enqueue turn.) */
function publisher(bus: QsContext['bus'], subject: string, rows: MessageRow[]): () => void {
  return () => {
    for (const row of rows) bus.publish(subject, row.data);
  };
}

export function clientQueueKind(ctx: QsContext): ActorKind<QueueState> {
  const method = methodsOf<QueueState>();
  const byPcid = (request: { pcid: Uint8Array }): string => idKey(requireId(request.pcid, 'pcid'));
  const byToken = senderKey('pcid');
  const auth = <P>(state: QueueState, request: hs.qs.SignedRequest, name: string, pcidKey: string, params: { decode(b: Uint8Array): P }) => {
    requireQueue(state);
    const result = authenticate(request, name, { kind: 'pcid', id: idFromKey(pcidKey) }, state.authKey, state.seenTokens, ctx.settings.tokenWindowMs, params);
    state.seenTokens = result.seenTokens;
    return result.params;
  };

  /** The rows appended in this turn, written with the snapshot and, once that has committed, published
   *  to the queue's live listener if it has one (a listener never sees a message that could still be
   *  lost). */
  const stored = (state: QueueState, actor: ActorContext, rows: MessageRow[]): Pick<Outcome<QueueState, unknown>, 'records' | 'afterCommit'> => {
    if (rows.length === 0) return {};
    const records = insertMessages(actor.key, rows);
    if (!ctx.listening.held(actor.key)) return { records };
    const subject = (state.listenSubject ??= listenSubject(ctx.domain, idFromKey(actor.key)));
    return { records, afterCommit: publisher(ctx.bus, subject, rows) };
  };

  /** Checks the item's owner-sealed config, once per activation. */
  const ownerSealed = async (state: QueueState, pcid: Uint8Array, item: hs.qs.IEnqueueItem): Promise<boolean> => {
    const authEnc = item.authEnc ?? EMPTY;
    if (state.verifiedConfigs.has(authEnc)) return true;
    try {
      await openOwnerConfig(ctx.keys.queueConfig, state.queueKey, { pcid, authEnc, authCiphertext: item.authCiphertext ?? EMPTY });
    } catch (error) {
      if (error instanceof QueueConfigError) return false;
      throw error;
    }
    state.verifiedConfigs.add(authEnc);
    return true;
  };

  const isBlocked = (state: QueueState, item: hs.qs.IEnqueueItem): boolean =>
    state.blocked.size > 0 && state.blocked.has(toHex(blocklistHash(state.salt, item.groupId ?? EMPTY)));

  /** Whether a key update falls due within the next `upcoming` messages (0: before the next one). */
  const keyUpdateDue = (state: QueueState, upcoming = 0): boolean =>
    state.sinceUpdate + upcoming >= ctx.settings.keyUpdateMessages || Date.now() - state.lastUpdateMs >= ctx.settings.keyUpdateMs;

  /** Seals the item with the ratchet as the next message. */
  const seal = (state: QueueState, pcid: Uint8Array, item: hs.qs.IEnqueueItem, rows: MessageRow[]): hs.qs.EnqueueStatus => {
    // The ratchet key steps in place.
    const message = sealMessage(state.ratchetKey, pcid, state.nextSeq, item.payload ?? EMPTY);
    state.sinceUpdate++;
    append(state, message, rows);
    return q.EnqueueStatus.ENQUEUED;
  };

  const enqueueOne = async (state: QueueState, pcid: Uint8Array, item: hs.qs.IEnqueueItem, rows: MessageRow[]): Promise<hs.qs.EnqueueStatus> => {
    if (!await ownerSealed(state, pcid, item)) return q.EnqueueStatus.NOT_OWNER_SEALED;
    if (isBlocked(state, item)) return q.EnqueueStatus.BLOCKED;
    if (keyUpdateDue(state)) await keyUpdate(state, pcid, rows);
    return seal(state, pcid, item, rows);
  };

  /** The turn's rows written, with a sealed head after a key update or every queueHeadInterval
   *  messages (sealing one per turn cost about a sixth of the enqueue path's CPU). */
  const enqueued = (state: QueueState, actor: ActorContext, statuses: hs.qs.EnqueueStatus[], rows: MessageRow[]): Outcome<QueueState, hs.qs.IEnqueueReply> => {
    if (rows.length === 0) return { reply: { statuses } };
    const lastSeq = state.nextSeq - 1;
    if (state.headDue || lastSeq - state.headSeq >= ctx.settings.queueHeadInterval) {
      rows.at(-1)!.head = ctx.operatorKey.sealFrequent(HEAD_PURPOSE, encodeMessage(q.QueueHead, {
        ratchetKey: state.ratchetKey, messagesSinceKeyUpdate: state.sinceUpdate, lastKeyUpdateMs: state.lastUpdateMs,
      }));
      state.headSeq = lastSeq;
      state.headDue = false;
    }
    // Journaled: the rows (with the head) are the whole write; the (queue, seq) key fences them.
    return { state, ...stored(state, actor, rows), journal: true, reply: { statuses } };
  };

  return {
    name: 'qs-client-queue',
    initialState: absent,
    encodeState: (state) => q.ClientQueueState.encode({
      puid: state.puid, clientRecordAuthKey: state.authKey, queueEncryptionKey: state.queueKey,
      nextSequenceNumber: state.nextSeq, firstSequenceNumber: state.firstSeq,
      sealedRatchetKey: ctx.operatorKey.sealFrequent(RATCHET_PURPOSE, state.ratchetKey),
      messagesSinceKeyUpdate: state.sinceUpdate, lastKeyUpdateMs: state.lastUpdateMs,
      blocklistSalt: state.salt, blocklistHashes: state.blocklist, lastActivityMs: state.lastActivityMs, seenTokens: state.seenTokens,
      keyPackageFloor: state.kpFloor, keyPackageNext: state.kpNext,
    }).finish(),
    decodeState: (data) => {
      const s = q.ClientQueueState.decode(data);
      return {
        exists: true, puid: s.puid, authKey: s.clientRecordAuthKey, queueKey: s.queueEncryptionKey,
        nextSeq: s.nextSequenceNumber, firstSeq: s.firstSequenceNumber,
        ratchetKey: ctx.operatorKey.openFrequent(RATCHET_PURPOSE, s.sealedRatchetKey),
        sinceUpdate: s.messagesSinceKeyUpdate, lastUpdateMs: s.lastKeyUpdateMs, salt: s.blocklistSalt,
        blocklist: s.blocklistHashes, blocked: new Set(s.blocklistHashes.map(toHex)), lastActivityMs: s.lastActivityMs,
        seenTokens: seenFromWire(s.seenTokens), listenSubject: undefined, pcid: undefined, verifiedConfigs: new RandomBytesSet(),
        headSeq: s.nextSequenceNumber - 1, headDue: false, kpFloor: s.keyPackageFloor, kpNext: s.keyPackageNext, kpTaken: new Set(),
      };
    },
    catchUp: async (state, key) => {
      const tail = await journalTail(ctx.orm, key, state.nextSeq);
      if (!tail) return state;
      let { ratchetKey, sinceUpdate, lastUpdateMs } = state;
      let from = state.nextSeq - 1;
      if (tail.head) {
        const head = q.QueueHead.decode(ctx.operatorKey.openFrequent(HEAD_PURPOSE, tail.head.head));
        ({ ratchetKey, messagesSinceKeyUpdate: sinceUpdate, lastKeyUpdateMs: lastUpdateMs } = head);
        from = tail.head.seq;
      }
      // Rows after the newest head are plain messages (a turn with a key update ends with a head):
      // one ratchet step each, as sealMessage took them.
      for (let seq = from + 1; seq <= tail.lastSeq; seq++) {
        const stepped = step(ratchetKey);
        stepped.messageKey.fill(0);
        ratchetKey = stepped.nextKey;
      }
      return { ...state, nextSeq: tail.lastSeq + 1, ratchetKey, sinceUpdate: sinceUpdate + tail.lastSeq - from, lastUpdateMs, headSeq: from };
    },
    methods: {
      /** From the user-record actor: a new client record with its queue; message 0 carries the first
       *  ratchet key, sealed to the queue encryption key. */
      InitQueue: method({
        access: 'internal', request: q.InitQueueRequest, response: q.Empty, keyOf: byPcid,
        handle: async (state, request, actor) => {
          if (state.exists) throw conflict('client record already exists');
          const pcid = idFromKey(actor.key);
          const now = Date.now();
          const ratchetKey = newRatchetKey();
          const next: QueueState = {
            ...absent(), exists: true, puid: requireId(request.puid, 'puid'),
            authKey: requireKey(request.clientRecordAuthKey, 'client_record_auth_key'),
            queueKey: requireKey(request.queueEncryptionKey, 'queue_encryption_key'),
            ratchetKey, lastUpdateMs: now, lastActivityMs: now, salt: randomBytes(SALT_BYTES),
          };
          const rows: MessageRow[] = [];
          append(next, await sealRatchetSecret(next.queueKey, pcid, 0, Kind.RATCHET_INIT, ratchetKey), rows);
          return { state: next, ...stored(next, actor, rows), reply: {} };
        },
      }),

      /** From the user-record actor (which checked the PUID's token): the queue, its messages and
       *  KeyPackages go. Deleting a queue that is already gone succeeds. */
      DeleteQueue: method({
        access: 'internal', request: q.QueueKeyRequest, response: q.Empty, keyOf: byPcid,
        handle: (state, _request, actor) => {
          ctx.listening.drop(actor.key);
          return state.exists ? { state: null, records: deleteQueueRows(actor.key), reply: {} } : { reply: {} };
        },
      }),

      EditClientRecord: method({
        request: q.SignedRequest, response: q.Empty, keyOf: byToken,
        handle: async (state, request, actor) => {
          const params = auth(state, request, 'EditClientRecord', actor.key, q.EditClientRecordParams);
          const authKey = requireKey(params.clientRecordAuthKey, 'client_record_auth_key');
          const queueKey = requireKey(params.queueEncryptionKey, 'queue_encryption_key');
          if (params.blocklistEntries.length > ctx.settings.maxBlocklist) throw badRequest(`at most ${ctx.settings.maxBlocklist} blocklist entries`);
          if (params.blocklistEntries.some((groupId) => groupId.length === 0 || groupId.length > 256)) throw badRequest('blocklist entries must be group ids of 1 to 256 bytes');
          state.authKey = authKey;
          state.blocklist = params.blocklistEntries.map((groupId) => blocklistHash(state.salt, groupId));
          state.blocked = new Set(state.blocklist.map(toHex));
          const rows: MessageRow[] = [];
          if (toHex(queueKey) !== toHex(state.queueKey)) {
            // A new queue key is the client recovering from a compromise: re-key the ratchet to it at once.
            // Configs sealed under the old key no longer authenticate (docs/decisions.md).
            state.queueKey = queueKey;
            state.verifiedConfigs.clear();
            await keyUpdate(state, idFromKey(actor.key), rows);
          }
          return { state, ...stored(state, actor, rows), reply: {} };
        },
      }),

      GetClientRecord: method({
        request: q.SignedRequest, response: q.GetClientRecordReply, keyOf: byToken,
        handle: (state, request, actor) => {
          auth(state, request, 'GetClientRecord', actor.key, q.GetClientRecordParams);
          return {
            state,
            reply: {
              clientRecordAuthKey: state.authKey, queueEncryptionKey: state.queueKey, blocklistSalt: state.salt,
              blocklistHashes: state.blocklist, nextSequenceNumber: state.nextSeq,
            },
          };
        },
      }),

      PublishKeyPackages: method({
        request: q.SignedRequest, response: q.Empty, keyOf: byToken,
        handle: async (state, request, actor) => {
          const params = auth(state, request, 'PublishKeyPackages', actor.key, q.PublishKeyPackagesParams);
          const tuples = params.keyPackageTuples;
          if (tuples.length === 0 || tuples.length > ctx.settings.maxKeyPackages) throw badRequest(`publish 1 to ${ctx.settings.maxKeyPackages} KeyPackages`);
          const floor = state.kpNext;
          const records: RecordWrite[] = [deleteKeyPackagesBefore(actor.key, floor)];
          let lastResort = 0;
          for (const [index, tuple] of tuples.entries()) {
            const position = floor + index;
            const data = q.KeyPackageTuple.encode(tuple).finish();
            if (data.length > ctx.settings.maxKeyPackageBytes) throw badRequest(`KeyPackage tuple ${index} exceeds ${ctx.settings.maxKeyPackageBytes} bytes`);
            const checked = await checkKeyPackageTuple(tuple, ctx.domain);
            if (checked.lastResort) lastResort++;
            records.push(insertKeyPackage(actor.key, position, checked.lastResort, checked.ref, data));
          }
          if (lastResort === 0) throw badRequest('one KeyPackage must be of last resort');
          state.kpFloor = floor;
          state.kpNext = floor + tuples.length;
          state.kpTaken.clear();
          return { state, records, reply: {} };
        },
      }),

      /** From the user-record actor: one KeyPackage, consumed unless it is of last resort. */
      TakeKeyPackage: method({
        access: 'internal', request: q.QueueKeyRequest, response: q.TakeKeyPackageReply, keyOf: byPcid,
        handle: async (state, _request, actor) => {
          if (!state.exists) return { reply: { found: false } };
          const stored = await nextKeyPackage(ctx.orm, actor.key, state.kpFloor, state.kpTaken);
          if (!stored) return { reply: { found: false } };
          const reply = { found: true, keyPackageTuple: q.KeyPackageTuple.decode(stored.data), keyPackageRef: stored.ref };
          if (stored.lastResort) return { reply };
          state.kpTaken.add(stored.position);
          return { state, reply, records: [deleteKeyPackage(actor.key, stored.position)] };
        },
      }),

      /** Deletes every message before the start and returns at most min(requested, configured,
       *  remaining) messages from it. */
      Dequeue: method({
        request: q.SignedRequest, response: q.DequeueReply, keyOf: byToken,
        handle: async (state, request, actor) => {
          const params = auth(state, request, 'Dequeue', actor.key, q.DequeueParams);
          const start = params.sequenceNumberStart;
          if (start > state.nextSeq) throw badRequest(`sequence_number_start ${start} is beyond the next sequence number ${state.nextSeq}`);
          const from = Math.max(start, state.firstSeq);
          const limit = Math.min(params.maxMessageNumber, ctx.settings.maxDequeue, state.nextSeq - from);
          const rows = await readMessages(ctx.orm, actor.key, from, limit);
          const messages = rows.map((row) => ({ ...q.QueueMessage.decode(row.data), sequenceNumber: row.seq }));
          const records: RecordWrite[] = start > state.firstSeq ? [deleteMessagesBefore(actor.key, start)] : [];
          state.firstSeq = from;
          state.lastActivityMs = Date.now();
          return { state, records, reply: { messages, remaining: state.nextSeq - from - messages.length } };
        },
      }),

      /** From the fan-out (coalesced per queue): check each item's owner-sealed config once per
       *  activation, drop blocked groups, seal with the ratchet; all items persist in one write. */
      Enqueue: method({
        access: 'internal', request: q.EnqueueRequest, response: q.EnqueueReply, keyOf: byPcid,
        handle: (state, request, actor) => {
          if (!state.exists) return { reply: { statuses: request.items.map(() => q.EnqueueStatus.NO_SUCH_QUEUE) } };
          const pcid = (state.pcid ??= idFromKey(actor.key));
          const rows: MessageRow[] = [];
          const items = request.items;
          // The usual turn: every config already checked and no key update due, so nothing to wait
          // for (a synchronous turn saves a promise and a microtask per item and per turn).
          if (!keyUpdateDue(state, items.length) && items.every((item) => state.verifiedConfigs.has(item.authEnc ?? EMPTY))) {
            const statuses = items.map((item) => (isBlocked(state, item) ? q.EnqueueStatus.BLOCKED : seal(state, pcid, item, rows)));
            return enqueued(state, actor, statuses, rows);
          }
          return (async () => {
            const statuses: hs.qs.EnqueueStatus[] = [];
            for (const item of items) statuses.push(await enqueueOne(state, pcid, item, rows));
            return enqueued(state, actor, statuses, rows);
          })();
        },
      }),

      /** For the gateway's listening WebSocket: checks the owner's token (method name "Listen") and
       *  starts the queue's listen lease. */
      AuthorizeListen: method({
        access: 'internal', request: q.SignedRequest, response: q.Empty, keyOf: byToken,
        handle: (state, request, actor) => {
          auth(state, request, 'Listen', actor.key, q.ListenParams);
          ctx.listening.grant(actor.key);
          return { state, reply: {} };
        },
      }),

      /** From the gateway while an authorised listener's socket is open: extends the lease. */
      RenewListen: method({
        access: 'internal', request: q.QueueKeyRequest, response: q.Empty, keyOf: byPcid,
        handle: (state, _request, actor) => {
          requireQueue(state);
          ctx.listening.grant(actor.key);
          return { reply: {} };
        },
      }),
    },
  };
}
