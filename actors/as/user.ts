// The AS user actor (key: the user name): the user's client entries with their credentials, queue
// encryption keys, connection KeyPackages and direct queues. One message at a time per user, so a name
// is registered once and sequence numbers never collide. Queued messages live in as_direct_message,
// written in the same transaction as the snapshot that advances the sequence number.
import type { MikroORM } from '@mikro-orm/core';
import { hs } from '../../schemas/index.js';
import { rememberOnce, seenFromWire, type SeenValue } from '../../protocol/replay-window.js';
import { methodsOf, type ActorKind, type ActorMethod, type Outcome, type SqlStatement, type WireType } from '../runtime/actor-kind.js';
import type { ActorClient } from '../../transport/envelope.js';
import { badRequest, conflict, ErrorCode, HsError, notFound, permissionDenied, preconditionFailed, unauthenticated } from '../../protocol/errors.js';
import { constantTimeEqual, sha256 } from '../../protocol/crypto/index.js';
import { verifyCsr } from '../../protocol/as/credentials.js';
import { claimedSigner, REQUEST_WINDOW_MS, verifyRequest } from '../../protocol/as/client-auth.js';
import { verifyConnectionKeyPackage } from '../../protocol/as/connection.js';
import { clientIdOf, requireLocalUser } from '../../protocol/as/names.js';
import { sealDirectMessage } from '../../protocol/as/direct-queue.js';
import { decodeTbs, type Decodes } from '../../protocol/as/signed.js';
import { KEYRING_KEY } from './keyring.js';
import type { AsSettings } from './settings.js';

interface Signed {
  tbs: Uint8Array;
  signature: Uint8Array;
}

interface Client {
  clientUuid: string;
  clientCredential: Signed;
  verifyingKey: Uint8Array;
  queueEncryptionKey: Uint8Array;
  activityMs: number;
  connectionKeyPackages: Signed[];
  nextSequenceNumber: number;
  /** The lowest sequence number not yet acknowledged (deleted below it). */
  firstSequenceNumber: number;
}

interface State {
  userName: string;
  clients: Client[];
  seenNonces: SeenValue[];
}

const EMPTY = new Uint8Array();
const signedOf = (signed: hs.as.ISigned | null | undefined): Signed => ({ tbs: signed?.tbs ?? EMPTY, signature: signed?.signature ?? EMPTY });

function decodeState(data: Uint8Array): State {
  const wire = hs.as.UserState.decode(data);
  return {
    userName: wire.userName,
    clients: wire.clients.map((client) => ({
      clientUuid: client.clientUuid ?? '', clientCredential: signedOf(client.clientCredential),
      verifyingKey: client.verifyingKey ?? EMPTY, queueEncryptionKey: client.queueEncryptionKey ?? EMPTY,
      activityMs: client.activityMs ?? 0, connectionKeyPackages: (client.connectionKeyPackages ?? []).map(signedOf),
      nextSequenceNumber: client.nextSequenceNumber ?? 0, firstSequenceNumber: client.firstSequenceNumber ?? 0,
    })),
    seenNonces: seenFromWire(wire.seenNonces),
  };
}

export interface UserKindOptions {
  domain: string;
  settings: AsSettings;
  actors: ActorClient;
  orm: MikroORM;
  now: () => number;
}


const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function decodePayload<T>(type: Decodes<T>, bytes: Uint8Array, what: string): T {
  try {
    return type.decode(bytes);
  } catch {
    throw badRequest(`malformed ${what} payload`);
  }
}

function requireUser(state: State): void {
  if (state.clients.length === 0) throw notFound('no such user');
}

function clientOf(state: State, uuid: string): Client {
  const client = state.clients.find((entry) => entry.clientUuid === uuid);
  if (!client) throw notFound('no such client');
  return client;
}

/** The direct queue's row key: a hash of the client id, which fits the column whatever the length of
 *  the user name and keeps names out of the message table. */
export const directQueueKey = (userName: string, clientUuid: string): string =>
  Buffer.from(sha256(new TextEncoder().encode(clientIdOf(userName, clientUuid)))).toString('hex');

function deleteMessages(userName: string, client: Client, below?: number): SqlStatement {
  const clientId = directQueueKey(userName, client.clientUuid);
  return below === undefined
    ? { sql: 'delete from as_direct_message where client_id = ?', params: [clientId] }
    : { sql: 'delete from as_direct_message where client_id = ? and seq < ?', params: [clientId, below] };
}

const bySigner = (request: { request?: hs.as.ISigned | null }): string => claimedSigner(request.request).userName;

export function userKind(options: UserKindOptions): ActorKind<State> {
  const { settings } = options;

  /** Verifies a client-signed request against the user's registered client and remembers its nonce. */
  function authenticate(state: State, request: hs.as.ISigned | null | undefined, method: string): { tbs: hs.as.ClientRequestTbs; client: Client } {
    const now = options.now();
    const claimed = claimedSigner(request);
    const client = state.clients.find((entry) => entry.clientUuid === claimed.clientUuid);
    if (!client || claimed.userName !== state.userName) throw unauthenticated('unknown client');
    const tbs = verifyRequest(request, method, client.verifyingKey, now);
    state.seenNonces = rememberOnce(state.seenNonces, tbs.nonce, tbs.timestampMs + REQUEST_WINDOW_MS, now, 'request nonce');
    return { tbs, client };
  }

  /** Verifies a CSR for this user and has the keyring sign it. */
  async function certify(state: State, csrSigned: hs.as.ISigned | null | undefined): Promise<{ csr: hs.as.ClientCsrTbs; credential: Signed }> {
    const csr = verifyCsr(csrSigned);
    requireLocalUser(csr.userName, options.domain);
    if (state.userName !== '' && csr.userName !== state.userName) throw badRequest('CSR names another user');
    const signed = await options.actors.call('as', KEYRING_KEY, 'SignClientCredential', hs.as.SignClientCredentialRequest.encode({ csrTbs: csrSigned!.tbs! }).finish());
    return { csr, credential: signedOf(hs.as.ClientCredentialReply.decode(signed).clientCredential) };
  }

  /** Checks a new client's CSR and queue key and has the keyring sign its credential. */
  async function newClient(state: State, csrSigned: hs.as.ISigned | null | undefined, queueEncryptionKey: Uint8Array): Promise<Client> {
    if (queueEncryptionKey.length !== 32) throw badRequest('queue encryption key must be a 32-byte X25519 public key');
    const claimed = decodeTbs(hs.as.ClientCsrTbs, csrSigned);
    if (state.clients.some((entry) => entry.clientUuid === claimed?.clientUuid)) throw conflict('a client with this uuid exists');
    if (state.clients.length >= settings.maxClients) throw preconditionFailed(`a user has at most ${settings.maxClients} clients`);
    const { csr, credential } = await certify(state, csrSigned);
    return {
      clientUuid: csr.clientUuid, clientCredential: credential, verifyingKey: csr.verifyingKey, queueEncryptionKey,
      activityMs: options.now(), connectionKeyPackages: [], nextSequenceNumber: 0, firstSequenceNumber: 0,
    };
  }

  const method = methodsOf<State>();

  /** A client-signed method: authenticates the signer, decodes the payload, then runs `handle`. */
  function signed<Payload, Reply>(
    name: string, payloadType: Decodes<Payload>, response: WireType<unknown, Reply>,
    handle: (state: State, payload: Payload, signer: Client) => Outcome<State, Reply> | Promise<Outcome<State, Reply>>,
  ): ActorMethod<State, hs.as.SignedRequest, Reply> {
    return method({
      request: hs.as.SignedRequest, response, keyOf: bySigner,
      handle: (state, request) => {
        const { tbs, client } = authenticate(state, request.request, `as/${name}`);
        return handle(state, decodePayload(payloadType, tbs.payload, name), client);
      },
    });
  }

  return {
    name: 'as-user',
    initialState: () => ({ userName: '', clients: [], seenNonces: [] }),
    encodeState: (state) => hs.as.UserState.encode(state).finish(),
    decodeState,
    methods: {
      Register: method({
        access: 'public',
        request: hs.as.RegisterRequest, response: hs.as.ClientCredentialReply,
        keyOf: (request) => {
          const csr = decodeTbs(hs.as.ClientCsrTbs, request.csr);
          if (!csr) throw badRequest('client signing request is missing or malformed');
          return csr.userName;
        },
        handle: async (state, request) => {
          if (settings.registration === 'closed') throw permissionDenied('registration is closed on this homeserver');
          if (settings.registration === 'invite' && !constantTimeEqual(utf8(request.inviteCode), utf8(settings.inviteSecret!))) {
            throw permissionDenied('registration needs a valid invite code');
          }
          if (state.clients.length > 0) {
            verifyCsr(request.csr);
            throw conflict('user name is taken');
          }
          const client = await newClient(state, request.csr, request.queueEncryptionKey);
          state.userName = hs.as.ClientCsrTbs.decode(request.csr!.tbs!).userName;
          state.clients = [client];
          return { reply: { clientCredential: client.clientCredential }, state };
        },
      }),
      GetClientCredentials: method({
        request: hs.as.GetClientCredentialsRequest, response: hs.as.GetClientCredentialsReply, keyOf: (request) => request.userName,
        handle: (state) => {
          requireUser(state);
          return { reply: { clientCredentials: state.clients.map((client) => client.clientCredential) } };
        },
      }),
      DeleteUser: signed('DeleteUser', hs.as.DeleteUserPayload, hs.as.Empty,
        (state) => ({ reply: {}, state: null, records: state.clients.map((client) => deleteMessages(state.userName, client)) })),
      AddClient: signed('AddClient', hs.as.AddClientPayload, hs.as.ClientCredentialReply, async (state, payload) => {
        const client = await newClient(state, payload.csr, payload.queueEncryptionKey);
        state.clients.push(client);
        return { reply: { clientCredential: client.clientCredential }, state };
      }),
      // A fresh credential for the signing client (before the old one expires), optionally for a new
      // key; connection KeyPackages carry the old credential, so they are dropped.
      RenewClientCredential: signed('RenewClientCredential', hs.as.RenewClientCredentialPayload, hs.as.ClientCredentialReply, async (state, payload, client) => {
        const claimed = decodeTbs(hs.as.ClientCsrTbs, payload.csr);
        if (claimed && claimed.clientUuid !== client.clientUuid) throw badRequest('a client renews only its own credential');
        const { csr, credential } = await certify(state, payload.csr);
        client.clientCredential = credential;
        client.verifyingKey = csr.verifyingKey;
        client.connectionKeyPackages = [];
        return { reply: { clientCredential: credential }, state };
      }),
      DeleteClient: signed('DeleteClient', hs.as.DeleteClientPayload, hs.as.Empty, (state, { clientUuid }) => {
        const target = clientOf(state, clientUuid);
        if (state.clients.length === 1) throw preconditionFailed('the last client of a user cannot be deleted; delete the user instead');
        state.clients = state.clients.filter((client) => client !== target);
        return { reply: {}, state, records: [deleteMessages(state.userName, target)] };
      }),
      GetClientEntry: signed('GetClientEntry', hs.as.GetClientEntryPayload, hs.as.ClientEntryReply, (state, { clientUuid }) => {
        const client = clientOf(state, clientUuid);
        const reply = {
          clientCredential: client.clientCredential, queueEncryptionKey: client.queueEncryptionKey,
          activityMs: client.activityMs, nextSequenceNumber: client.nextSequenceNumber,
        };
        return { reply, state };
      }),
      PublishConnectionPackages: signed('PublishConnectionPackages', hs.as.PublishConnectionPackagesPayload, hs.as.Empty, (state, { keyPackages }, client) => {
        if (keyPackages.length === 0 || keyPackages.length > settings.maxConnectionPackages) {
          throw badRequest(`publish from 1 to ${settings.maxConnectionPackages} connection KeyPackages`);
        }
        const now = options.now();
        for (const keyPackage of keyPackages) {
          const contents = verifyConnectionKeyPackage(keyPackage, client.verifyingKey, now);
          const own = client.clientCredential;
          if (!constantTimeEqual(contents.clientCredential?.tbs ?? new Uint8Array(), own.tbs)
            || !constantTimeEqual(contents.clientCredential?.signature ?? new Uint8Array(), own.signature)) {
            throw badRequest('connection KeyPackage must carry the publishing client\'s credential');
          }
        }
        client.connectionKeyPackages = [...client.connectionKeyPackages, ...keyPackages.map(signedOf)]
          .slice(-settings.maxConnectionPackages);
        return { reply: {}, state };
      }),
      FetchConnectionPackages: method({
        request: hs.as.FetchConnectionPackagesRequest, response: hs.as.FetchConnectionPackagesReply, keyOf: (request) => request.userName,
        handle: (state) => {
          requireUser(state);
          const now = options.now();
          const keyPackages: Signed[] = [];
          for (const client of state.clients) {
            client.connectionKeyPackages = client.connectionKeyPackages.filter((entry) => (decodeTbs(hs.as.ConnectionKeyPackageTbs, entry)?.notAfterMs ?? 0) >= now);
            // Each package is handed out once, except the last, which stays as a last resort.
            const next = client.connectionKeyPackages.length > 1 ? client.connectionKeyPackages.shift() : client.connectionKeyPackages[0];
            if (next) keyPackages.push(next);
          }
          return { reply: { keyPackages }, state };
        },
      }),
      EnqueueDirect: method({
        request: hs.as.EnqueueDirectRequest, response: hs.as.EnqueueDirectReply, keyOf: (request) => request.userName,
        handle: async (state, request) => {
          requireUser(state);
          const client = clientOf(state, request.clientUuid);
          if (request.message.length === 0) throw badRequest('message is empty');
          if (request.message.length > settings.maxMessageBytes) throw new HsError(ErrorCode.PAYLOAD_TOO_LARGE, `a direct message is at most ${settings.maxMessageBytes} bytes`);
          const sequenceNumber = client.nextSequenceNumber++;
          const clientId = clientIdOf(state.userName, client.clientUuid);
          const sealed = await sealDirectMessage(client.queueEncryptionKey, clientId, sequenceNumber, request.message);
          const insert = { sql: 'insert into as_direct_message (client_id, seq, data) values (?, ?, ?)', params: [directQueueKey(state.userName, client.clientUuid), sequenceNumber, Buffer.from(sealed)] };
          return { reply: { sequenceNumber }, state, records: [insert] };
        },
      }),
      DequeueDirect: signed('DequeueDirect', hs.as.DequeueDirectPayload, hs.as.DequeueDirectReply, async (state, payload, client) => {
        // The client acknowledges everything below `start`; it cannot acknowledge the future.
        const start = Math.min(Math.max(payload.sequenceNumberStart, client.firstSequenceNumber), client.nextSequenceNumber);
        const limit = Math.min(payload.maxMessages || settings.maxDequeue, settings.maxDequeue);
        const rows = await options.orm.em.getConnection().execute<{ seq: number | string; data: Buffer }[]>(
          'select seq, data from as_direct_message where client_id = ? and seq >= ? order by seq limit ?',
          [directQueueKey(state.userName, client.clientUuid), start, limit]);
        const messages = rows.map((row: { seq: number | string; data: Buffer }) => ({ sequenceNumber: Number(row.seq), message: new Uint8Array(row.data) }));
        const records = start > client.firstSequenceNumber ? [deleteMessages(state.userName, client, start)] : [];
        client.firstSequenceNumber = start;
        client.activityMs = options.now();
        return { reply: { messages, remaining: client.nextSequenceNumber - start - messages.length }, state, records };
      }),
      AuthenticateClient: method({
        access: 'internal',
        request: hs.as.AuthenticateClientRequest, response: hs.as.AuthenticateClientReply, keyOf: bySigner,
        handle: (state, request) => {
          const { tbs } = authenticate(state, request.request, request.expectedMethod);
          return { reply: { userName: tbs.userName, clientUuid: tbs.clientUuid, payload: tbs.payload }, state };
        },
      }),
    },
  };
}
