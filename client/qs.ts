// The QS part of the SDK: every client endpoint, with QsAuthTokens signed here. Keys stay with the
// caller; the SDK only signs with them. Reading a queue through its ratchet is in qs-queue.ts.
import { hs } from '../schemas/index.js';
import { signRequest, type Sender } from '../protocol/qs/auth-token.js';
import type { Decoder, Encoder, HomeserverHttp } from './http.js';

const q = hs.qs;
const MODULE = 'qs';

/** A user record's owner: its PUID and the user record auth (signing) key. */
export interface UserRecordOwner {
  puid: Uint8Array;
  signingKey: Uint8Array;
}

/** A client record's owner: its PCID and the client record auth (signing) key. */
export interface ClientRecordOwner {
  pcid: Uint8Array;
  signingKey: Uint8Array;
}

export class QsClient {
  constructor(readonly http: HomeserverHttp) {}

  getPublicKeys(): Promise<hs.qs.GetPublicKeysReply> {
    return this.http.call(MODULE, 'GetPublicKeys', q.GetPublicKeysRequest, q.GetPublicKeysReply, {});
  }

  createUserRecord(request: hs.qs.ICreateUserRecordRequest): Promise<hs.qs.CreateUserRecordReply> {
    return this.http.call(MODULE, 'CreateUserRecord', q.CreateUserRecordRequest, q.CreateUserRecordReply, request);
  }

  async editUserRecord(user: UserRecordOwner, params: hs.qs.IEditUserRecordParams): Promise<void> {
    await this.asUser(user, 'EditUserRecord', q.EditUserRecordParams, params, q.Empty);
  }

  getUserRecord(user: UserRecordOwner): Promise<hs.qs.GetUserRecordReply> {
    return this.asUser(user, 'GetUserRecord', q.GetUserRecordParams, {}, q.GetUserRecordReply);
  }

  async deleteUserRecord(user: UserRecordOwner): Promise<void> {
    await this.asUser(user, 'DeleteUserRecord', q.DeleteUserRecordParams, {}, q.Empty);
  }

  async createClientRecord(user: UserRecordOwner, params: hs.qs.ICreateClientRecordParams): Promise<Uint8Array> {
    return (await this.asUser(user, 'CreateClientRecord', q.CreateClientRecordParams, params, q.CreateClientRecordReply)).pcid;
  }

  async deleteClientRecord(user: UserRecordOwner, pcid: Uint8Array): Promise<void> {
    await this.asUser(user, 'DeleteClientRecord', q.DeleteClientRecordParams, { pcid }, q.Empty);
  }

  async getClientKeyPackage(user: UserRecordOwner, pcid: Uint8Array): Promise<hs.qs.IKeyPackageTuple> {
    return (await this.asUser(user, 'GetClientKeyPackage', q.GetClientKeyPackageParams, { pcid }, q.GetClientKeyPackageReply)).keyPackageTuple!;
  }

  getKeyPackageBatch(puid: Uint8Array, friendshipToken: Uint8Array): Promise<hs.qs.GetKeyPackageBatchReply> {
    return this.http.call(MODULE, 'GetKeyPackageBatch', q.GetKeyPackageBatchRequest, q.GetKeyPackageBatchReply, { puid, friendshipToken });
  }

  async editClientRecord(client: ClientRecordOwner, params: hs.qs.IEditClientRecordParams): Promise<void> {
    await this.asClient(client, 'EditClientRecord', q.EditClientRecordParams, params, q.Empty);
  }

  getClientRecord(client: ClientRecordOwner): Promise<hs.qs.GetClientRecordReply> {
    return this.asClient(client, 'GetClientRecord', q.GetClientRecordParams, {}, q.GetClientRecordReply);
  }

  async publishKeyPackages(client: ClientRecordOwner, keyPackageTuples: hs.qs.IKeyPackageTuple[]): Promise<void> {
    await this.asClient(client, 'PublishKeyPackages', q.PublishKeyPackagesParams, { keyPackageTuples }, q.Empty);
  }

  /** Raw dequeue (ciphertexts); QueueReceiver decrypts. */
  dequeue(client: ClientRecordOwner, sequenceNumberStart: number, maxMessageNumber: number): Promise<hs.qs.DequeueReply> {
    return this.asClient(client, 'Dequeue', q.DequeueParams, { sequenceNumberStart, maxMessageNumber }, q.DequeueReply);
  }

  private asUser<P, R>(user: UserRecordOwner, method: string, paramsType: Encoder<P>, params: P, replyType: Decoder<R>): Promise<R> {
    return this.signed({ kind: 'puid', id: user.puid }, user.signingKey, method, paramsType, params, replyType);
  }

  private asClient<P, R>(client: ClientRecordOwner, method: string, paramsType: Encoder<P>, params: P, replyType: Decoder<R>): Promise<R> {
    return this.signed({ kind: 'pcid', id: client.pcid }, client.signingKey, method, paramsType, params, replyType);
  }

  private signed<P, R>(sender: Sender, signingKey: Uint8Array, method: string, paramsType: Encoder<P>, params: P, replyType: Decoder<R>): Promise<R> {
    const request = signRequest(sender, signingKey, method, paramsType.encode(params).finish());
    return this.http.call(MODULE, method, q.SignedRequest, replyType, request);
  }
}
