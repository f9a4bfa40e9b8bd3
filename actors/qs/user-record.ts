// The pseudonymous user-record actor, one per PUID: the user record auth key, the friendship token
// (stored as its SHA-256: it is a bearer secret), and the PCIDs of the user's clients. Operations that
// span clients (create, delete, KeyPackage batches) call the client-queue actors; those never call
// back, so no two actors wait on each other.
import { hs } from '../../schemas/index.js';
import { seenFromWire, type SeenValue } from '../../protocol/replay-window.js';
import { badRequest, conflict, notFound, preconditionFailed, unauthenticated } from '../../protocol/errors.js';
import { constantTimeEqual, sha256 } from '../../protocol/crypto/index.js';
import { idFromKey, idKey, newId, requireId, requireKey } from '../../protocol/qs/ids.js';
import { signKeyPackageBatch } from '../../protocol/qs/key-package-batch.js';
import { methodsOf, type ActorKind } from '../runtime/actor-kind.js';
import { authenticate, senderKey } from './auth.js';
import { callQs, type QsContext } from './context.js';

const q = hs.qs;
const EMPTY = new Uint8Array();

export interface UserState {
  exists: boolean;
  authKey: Uint8Array;
  tokenHash: Uint8Array;
  clients: Uint8Array[];
  seenTokens: SeenValue[];
}

const absent = (): UserState => ({ exists: false, authKey: EMPTY, tokenHash: EMPTY, clients: [], seenTokens: [] });

/** Friendship tokens are random bearer secrets: 16 to 64 bytes, compared by hash. */
function tokenHash(token: Uint8Array): Uint8Array {
  if (token.length < 16 || token.length > 64) throw badRequest('friendship_token must be 16 to 64 bytes');
  return sha256(token);
}

export function userRecordKind(ctx: QsContext): ActorKind<UserState> {
  const method = methodsOf<UserState>();
  const byToken = senderKey('puid');
  const auth = <P>(state: UserState, request: hs.qs.SignedRequest, name: string, puidKey: string, params: { decode(b: Uint8Array): P }) => {
    if (!state.exists) throw notFound('no such user record');
    const result = authenticate(request, name, { kind: 'puid', id: idFromKey(puidKey) }, state.authKey, state.seenTokens, ctx.settings.tokenWindowMs, params);
    state.seenTokens = result.seenTokens;
    return result.params;
  };
  /** The PCID of one of this user's client records, or a refusal. */
  const ownClient = (state: UserState, pcid: Uint8Array | null | undefined): Uint8Array => {
    const id = requireId(pcid, 'pcid');
    if (!state.clients.some((client) => constantTimeEqual(client, id))) throw notFound('no such client record in this user record');
    return id;
  };
  const initQueue = (puid: Uint8Array, pcid: Uint8Array, clientRecordAuthKey: Uint8Array, queueEncryptionKey: Uint8Array) =>
    callQs(ctx, idKey(pcid), 'InitQueue', {
      pcid, puid, clientRecordAuthKey: requireKey(clientRecordAuthKey, 'client_record_auth_key'),
      queueEncryptionKey: requireKey(queueEncryptionKey, 'queue_encryption_key'),
    }, q.InitQueueRequest, q.Empty);
  const deleteQueue = (pcid: Uint8Array) => callQs(ctx, idKey(pcid), 'DeleteQueue', { pcid }, q.QueueKeyRequest, q.Empty);
  const takeKeyPackage = (pcid: Uint8Array) => callQs(ctx, idKey(pcid), 'TakeKeyPackage', { pcid }, q.QueueKeyRequest, q.TakeKeyPackageReply);

  return {
    name: 'qs-user-record',
    initialState: absent,
    encodeState: (state) => q.UserRecordState.encode({
      userRecordAuthKey: state.authKey, friendshipTokenHash: state.tokenHash, clientRecords: state.clients, seenTokens: state.seenTokens,
    }).finish(),
    decodeState: (data) => {
      const s = q.UserRecordState.decode(data);
      return { exists: true, authKey: s.userRecordAuthKey, tokenHash: s.friendshipTokenHash, clients: s.clientRecords, seenTokens: seenFromWire(s.seenTokens) };
    },
    methods: {
      /** The QS samples the PUID: the gateway routes the request to a fresh key (keyOf), the actor
       *  takes that key as the new record's PUID and samples the first PCID itself. */
      CreateUserRecord: method({
        request: q.CreateUserRecordRequest, response: q.CreateUserRecordReply, keyOf: () => idKey(newId()),
        handle: async (state, request, actor) => {
          if (state.exists) throw conflict('user record already exists');
          const authKey = requireKey(request.userRecordAuthKey, 'user_record_auth_key');
          const hash = tokenHash(request.friendshipToken);
          const puid = requireId(idFromKey(actor.key), 'puid');
          const pcid = newId();
          await initQueue(puid, pcid, request.clientRecordAuthKey, request.queueEncryptionKey);
          return { state: { exists: true, authKey, tokenHash: hash, clients: [pcid], seenTokens: [] }, reply: { puid, pcid } };
        },
      }),

      EditUserRecord: method({
        request: q.SignedRequest, response: q.Empty, keyOf: byToken,
        handle: (state, request, actor) => {
          const params = auth(state, request, 'EditUserRecord', actor.key, q.EditUserRecordParams);
          state.authKey = requireKey(params.userRecordAuthKey, 'user_record_auth_key');
          state.tokenHash = tokenHash(params.friendshipToken);
          return { state, reply: {} };
        },
      }),

      GetUserRecord: method({
        request: q.SignedRequest, response: q.GetUserRecordReply, keyOf: byToken,
        handle: (state, request, actor) => {
          auth(state, request, 'GetUserRecord', actor.key, q.GetUserRecordParams);
          return { state, reply: { userRecordAuthKey: state.authKey, clientRecords: state.clients } };
        },
      }),

      /** Deletes every client record, then the user record. A failure part-way leaves the record
       *  with the clients not yet deleted, so a retry finishes the job. */
      DeleteUserRecord: method({
        request: q.SignedRequest, response: q.Empty, keyOf: byToken,
        handle: async (state, request, actor) => {
          auth(state, request, 'DeleteUserRecord', actor.key, q.DeleteUserRecordParams);
          for (const pcid of state.clients) await deleteQueue(pcid);
          return { state: null, reply: {} };
        },
      }),

      CreateClientRecord: method({
        request: q.SignedRequest, response: q.CreateClientRecordReply, keyOf: byToken,
        handle: async (state, request, actor) => {
          const params = auth(state, request, 'CreateClientRecord', actor.key, q.CreateClientRecordParams);
          const pcid = newId();
          await initQueue(idFromKey(actor.key), pcid, params.clientRecordAuthKey, params.queueEncryptionKey);
          state.clients = [...state.clients, pcid];
          return { state, reply: { pcid } };
        },
      }),

      /** The last client goes only with its user record (DeleteUserRecord). */
      DeleteClientRecord: method({
        request: q.SignedRequest, response: q.Empty, keyOf: byToken,
        handle: async (state, request, actor) => {
          const pcid = ownClient(state, auth(state, request, 'DeleteClientRecord', actor.key, q.DeleteClientRecordParams).pcid);
          if (state.clients.length === 1) throw preconditionFailed('the last client record goes only with its user record');
          await deleteQueue(pcid);
          state.clients = state.clients.filter((client) => !constantTimeEqual(client, pcid));
          return { state, reply: {} };
        },
      }),

      /** One KeyPackage of a sibling client (to add it to groups the user is in). */
      GetClientKeyPackage: method({
        request: q.SignedRequest, response: q.GetClientKeyPackageReply, keyOf: byToken,
        handle: async (state, request, actor) => {
          const pcid = ownClient(state, auth(state, request, 'GetClientKeyPackage', actor.key, q.GetClientKeyPackageParams).pcid);
          const taken = await takeKeyPackage(pcid);
          if (!taken.found) throw notFound('the client has published no KeyPackages');
          return { state, reply: { keyPackageTuple: taken.keyPackageTuple } };
        },
      }),

      /** One KeyPackage per client, with the QS-signed batch of their references. Authorized by the
       *  friendship token instead of a QsAuthToken. */
      GetKeyPackageBatch: method({
        request: q.GetKeyPackageBatchRequest, response: q.GetKeyPackageBatchReply, keyOf: (request) => idKey(requireId(request.puid, 'puid')),
        handle: async (state, request) => {
          if (!state.exists) throw notFound('no such user record');
          if (!constantTimeEqual(tokenHash(request.friendshipToken), state.tokenHash)) throw unauthenticated('wrong friendship token');
          const taken = await Promise.all(state.clients.map(takeKeyPackage));
          const found = taken.filter((reply) => reply.found);
          return {
            reply: {
              keyPackageTuples: found.map((reply) => reply.keyPackageTuple!),
              keyPackageBatch: signKeyPackageBatch(ctx.keys.signing.privateKey, ctx.domain, found.map((reply) => reply.keyPackageRef)),
            },
          };
        },
      }),
    },
  };
}
