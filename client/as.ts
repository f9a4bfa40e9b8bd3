// The SDK's Authentication Service calls: registration, client management, credential discovery with
// chain verification, connection establishment packages and direct queues. Gated calls carry a Privacy
// Pass token from a TokenSource (client/token-pool.ts); client-signed calls are signed with the
// identity's credential key.
import { randomUUID } from 'node:crypto';
import { hs } from '../schemas/index.js';
import { badRequest, ErrorCode, HsError, unauthenticated } from '../protocol/errors.js';
import { constantTimeEqual, generateHpkeKeyPair, generateSigningKeyPair, sha256, toHex, type HpkeKeyPair, type SigningKeyPair } from '../protocol/crypto/index.js';
import { createCsr, verifyClientCredential, type TrustedCredentials } from '../protocol/as/credentials.js';
import { signRequest } from '../protocol/as/client-auth.js';
import {
  createConnectionKeyPackage, openConnectionPackage, sealConnectionPackage, verifyConnectionKeyPackage, type ConnectionPackageContents,
} from '../protocol/as/connection.js';
import type { Encodes } from '../protocol/as/signed.js';
import { clientIdOf } from '../protocol/as/names.js';
import { openDirectMessage } from '../protocol/as/direct-queue.js';
import type { Decoder, HomeserverHttp } from './http.js';

/** Everything a client keeps about itself; the private keys never leave the device. */
export interface ClientIdentity {
  userName: string;
  clientUuid: string;
  signingKey: SigningKeyPair;
  credential: hs.as.ISigned;
  queueKeyPair: HpkeKeyPair;
  /** Private halves of published connection KeyPackages, by SHA-256 of the init key (hex). */
  connectionKeys: Map<string, HpkeKeyPair>;
}

/** Supplies one `Authorization` header value per gated request. */
export interface TokenSource {
  authorization(): Promise<string>;
}

export interface DirectMessages {
  messages: { sequenceNumber: number; message: Uint8Array }[];
  /** Messages still queued after these. */
  remaining: number;
}

export interface VerifiedConnectionPackage {
  sender: hs.as.ClientCredentialTbs;
  keyPackage: hs.as.ISigned;
  initKey: Uint8Array;
}

const CONNECTION_PACKAGE_LIFETIME_MS = 30 * 86_400_000;

export class AsClient {
  private trusted: TrustedCredentials | undefined;

  constructor(
    readonly http: HomeserverHttp,
    private readonly tokens?: TokenSource,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- credentials ----

  /** The homeserver's AS and intermediate credentials (cached; `refresh` fetches again). */
  async asCredentials(refresh = false): Promise<TrustedCredentials> {
    if (!this.trusted || refresh) {
      const reply = await this.http.call('as', 'GetAsCredentials', hs.as.GetAsCredentialsRequest, hs.as.AsCredentialsReply, {});
      this.trusted = { asCredentials: reply.asCredentials, intermediates: reply.asIntermediateCredentials };
    }
    return this.trusted;
  }

  /** Verifies a client credential's chain up to this homeserver's AS credential, re-fetching the
   *  credentials once when the issuer is not (yet) known. Throws UNAUTHENTICATED. */
  async verifyCredential(credential: hs.as.ISigned | null | undefined): Promise<hs.as.ClientCredentialTbs> {
    try {
      return verifyClientCredential(credential, await this.asCredentials(), this.now());
    } catch (error) {
      if (!(error instanceof HsError) || error.code !== ErrorCode.UNAUTHENTICATED) throw error;
      return verifyClientCredential(credential, await this.asCredentials(true), this.now());
    }
  }

  // ---- users and clients ----

  async register(userName: string, options: { inviteCode?: string } = {}): Promise<ClientIdentity> {
    const draft = this.draftClient(userName);
    const reply = await this.http.call('as', 'Register', hs.as.RegisterRequest, hs.as.ClientCredentialReply, {
      csr: draft.csr, queueEncryptionKey: draft.identity.queueKeyPair.publicKey, inviteCode: options.inviteCode ?? '',
    });
    return this.adopt(draft.identity, reply.clientCredential);
  }

  /** Credentials of every client of `userName`, each chain verified. */
  async clientCredentials(userName: string): Promise<hs.as.ClientCredentialTbs[]> {
    const reply = await this.gated('GetClientCredentials', hs.as.GetClientCredentialsRequest, hs.as.GetClientCredentialsReply, { userName });
    const verified = await Promise.all(reply.clientCredentials.map((credential) => this.verifyCredential(credential)));
    if (verified.some((tbs) => tbs.userName !== userName)) throw unauthenticated(`the AS returned a credential of another user than ${userName}`);
    return verified;
  }

  async deleteUser(identity: ClientIdentity): Promise<void> {
    await this.signed(identity, 'DeleteUser', hs.as.DeleteUserPayload, {}, hs.as.Empty);
  }

  /** Registers a new client of the same user, authorized by `identity`; returns the new client. */
  async addClient(identity: ClientIdentity): Promise<ClientIdentity> {
    const draft = this.draftClient(identity.userName);
    const reply = await this.signed(identity, 'AddClient', hs.as.AddClientPayload,
      { csr: draft.csr, queueEncryptionKey: draft.identity.queueKeyPair.publicKey }, hs.as.ClientCredentialReply);
    return this.adopt(draft.identity, reply.clientCredential);
  }

  /** A fresh credential (and a fresh signing key) for this client; returns the updated identity. */
  async renewCredential(identity: ClientIdentity): Promise<ClientIdentity> {
    const signingKey = generateSigningKeyPair();
    const csr = createCsr(identity.userName, identity.clientUuid, signingKey, this.now());
    const reply = await this.signed(identity, 'RenewClientCredential', hs.as.RenewClientCredentialPayload, { csr }, hs.as.ClientCredentialReply);
    return this.adopt({ ...identity, signingKey, connectionKeys: new Map() }, reply.clientCredential);
  }

  async deleteClient(identity: ClientIdentity, clientUuid: string): Promise<void> {
    await this.signed(identity, 'DeleteClient', hs.as.DeleteClientPayload, { clientUuid }, hs.as.Empty);
  }

  async clientEntry(identity: ClientIdentity, clientUuid: string): Promise<hs.as.ClientEntryReply> {
    return this.signed(identity, 'GetClientEntry', hs.as.GetClientEntryPayload, { clientUuid }, hs.as.ClientEntryReply);
  }

  // ---- connection establishment ----

  /** Publishes `count` fresh connection KeyPackages and keeps their private init keys in `identity`. */
  async publishConnectionPackages(identity: ClientIdentity, count: number): Promise<void> {
    const keyPackages = Array.from({ length: count }, () => {
      const initKeys = generateHpkeKeyPair();
      identity.connectionKeys.set(toHex(sha256(initKeys.publicKey)), initKeys);
      return createConnectionKeyPackage(identity.credential, initKeys.publicKey, this.now() + CONNECTION_PACKAGE_LIFETIME_MS, identity.signingKey.privateKey);
    });
    await this.signed(identity, 'PublishConnectionPackages', hs.as.PublishConnectionPackagesPayload, { keyPackages }, hs.as.Empty);
  }

  /** One connection KeyPackage per client of `userName`, each verified up to the AS credential. */
  async fetchConnectionPackages(userName: string): Promise<VerifiedConnectionPackage[]> {
    const reply = await this.gated('FetchConnectionPackages', hs.as.FetchConnectionPackagesRequest, hs.as.FetchConnectionPackagesReply, { userName });
    return Promise.all(reply.keyPackages.map(async (keyPackage) => {
      const tbs = hs.as.ConnectionKeyPackageTbs.decode(keyPackage.tbs ?? new Uint8Array());
      const sender = await this.verifyCredential(tbs.clientCredential);
      if (sender.userName !== userName) throw unauthenticated(`a connection KeyPackage of another user than ${userName}`);
      const contents = verifyConnectionKeyPackage(keyPackage, sender.verifyingKey, this.now());
      return { sender, keyPackage, initKey: contents.initKey };
    }));
  }

  /** Sends a signed, sealed ConnectionEstablishmentPackage to every client of `userName`. */
  async sendConnectionPackage(identity: ClientIdentity, userName: string, contents: ConnectionPackageContents): Promise<number> {
    const packages = await this.fetchConnectionPackages(userName);
    for (const target of packages) {
      const sealed = await sealConnectionPackage(contents, { credential: identity.credential, privateKey: identity.signingKey.privateKey }, target.initKey);
      await this.enqueueDirect(userName, target.sender.clientUuid, hs.as.SealedConnectionPackage.encode(sealed).finish());
    }
    return packages.length;
  }

  /** Opens a connection package from this client's direct queue and verifies its sender. */
  async openConnectionPackage(identity: ClientIdentity, message: Uint8Array): Promise<{ sender: hs.as.ClientCredentialTbs; contents: hs.as.ConnectionEstablishmentPackageTbs }> {
    let sealed: hs.as.SealedConnectionPackage;
    try {
      sealed = hs.as.SealedConnectionPackage.decode(message);
    } catch {
      throw badRequest('not a sealed connection package');
    }
    const initKeys = identity.connectionKeys.get(toHex(sealed.initKeyHash));
    if (!initKeys) throw unauthenticated('connection package is sealed to an init key this client does not hold');
    try {
      return await openConnectionPackage(sealed, initKeys, await this.asCredentials(), this.now());
    } catch {
      return openConnectionPackage(sealed, initKeys, await this.asCredentials(true), this.now());
    }
  }

  // ---- direct queues ----

  async enqueueDirect(userName: string, clientUuid: string, message: Uint8Array): Promise<number> {
    const reply = await this.gated('EnqueueDirect', hs.as.EnqueueDirectRequest, hs.as.EnqueueDirectReply, { userName, clientUuid, message });
    return reply.sequenceNumber;
  }

  /** Messages from `sequenceNumberStart` on, decrypted; everything below it is acknowledged and deleted. */
  async dequeueDirect(identity: ClientIdentity, sequenceNumberStart: number, maxMessages = 0): Promise<DirectMessages> {
    const reply = await this.signed(identity, 'DequeueDirect', hs.as.DequeueDirectPayload, { sequenceNumberStart, maxMessages }, hs.as.DequeueDirectReply);
    const clientId = clientIdOf(identity.userName, identity.clientUuid);
    const messages = await Promise.all(reply.messages.map(async (entry) => ({
      sequenceNumber: entry.sequenceNumber ?? 0,
      message: await openDirectMessage(identity.queueKeyPair, clientId, entry.sequenceNumber ?? 0, entry.message ?? new Uint8Array()),
    })));
    return { messages, remaining: reply.remaining };
  }

  // ---- plumbing ----

  /** A gated call: one Privacy Pass token per request when a token source is configured. */
  private async gated<Request, Reply>(method: string, requestType: Encodes<Request>, replyType: Decoder<Reply>, request: Request): Promise<Reply> {
    const headers: Record<string, string> = this.tokens ? { authorization: await this.tokens.authorization() } : {};
    return this.http.call('as', method, requestType, replyType, request, headers);
  }

  /** A gated call signed by `identity` over the method name and the encoded payload. */
  private signed<Payload, Reply>(identity: ClientIdentity, method: string, payloadType: Encodes<Payload>, payload: Payload, replyType: Decoder<Reply>): Promise<Reply> {
    const request = signRequest(
      { userName: identity.userName, clientUuid: identity.clientUuid, privateKey: identity.signingKey.privateKey },
      `as/${method}`, payloadType.encode(payload).finish(), this.now());
    return this.gated(method, hs.as.SignedRequest, replyType, { request });
  }

  private draftClient(userName: string): { identity: Omit<ClientIdentity, 'credential'>; csr: hs.as.ISigned } {
    const signingKey = generateSigningKeyPair();
    const clientUuid = randomUUID();
    return {
      identity: { userName, clientUuid, signingKey, queueKeyPair: generateHpkeKeyPair(), connectionKeys: new Map() },
      csr: createCsr(userName, clientUuid, signingKey, this.now()),
    };
  }

  /** Accepts a credential the AS issued only if it verifies and certifies exactly what was asked. */
  private async adopt(identity: Omit<ClientIdentity, 'credential'>, credential: hs.as.ISigned | null | undefined): Promise<ClientIdentity> {
    const tbs = await this.verifyCredential(credential);
    if (tbs.userName !== identity.userName || tbs.clientUuid !== identity.clientUuid || !constantTimeEqual(tbs.verifyingKey, identity.signingKey.publicKey)) {
      throw unauthenticated('the AS issued a credential for something else than was requested');
    }
    return { ...identity, credential: credential! };
  }
}
