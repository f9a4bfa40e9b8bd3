// Shared set-up for the QS tests: a real node (NATS + PostgreSQL) with the QS module, SDK clients,
// real MLS KeyPackages (ts-mls, ciphersuite 1) carrying the QueueConfig extension, and the DS's view
// of local enqueue.
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import {
  defaultCapabilities, defaultLifetime, encodeMlsMessage, generateKeyPackage, getCiphersuiteFromName, getCiphersuiteImpl,
  nobleCryptoProvider, type CiphersuiteImpl,
} from 'ts-mls';
import { hs } from '../../schemas/index.js';
import { HsError } from '../../protocol/errors.js';
import { generateHpkeKeyPair, generateSigningKeyPair, randomBytes, type HpkeKeyPair } from '../../protocol/crypto/index.js';
import { MLS_CIPHERSUITE_NAME, MlsExtensionType } from '../../protocol/mls-profile.js';
import { sealQueueConfig } from '../../protocol/qs/queue-config.js';
import { qsModule } from '../../actors/qs/module.js';
import { localEnqueue, type LocalEnqueueOutcome } from '../../actors/qs/fanout.js';
import { HomeserverHttp } from '../../client/http.js';
import { QsClient, type ClientRecordOwner, type UserRecordOwner } from '../../client/qs.js';
import { QueueReceiver } from '../../client/qs-queue.js';
import { createTestEnvironment, startTestNode, type TestEnvironment, type TestNode } from '../helpers/node.js';

export interface QsHarness {
  environment: TestEnvironment;
  node: TestNode;
  qs: QsClient;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A node on a fresh domain and database; `settings` are QS_* variables. */
export async function startQs(settings: Record<string, string> = {}): Promise<QsHarness> {
  const environment = await createTestEnvironment('nats-postgres', { HS_OPERATOR_KEY: nodeRandomBytes(32).toString('base64'), ...settings });
  const harness: QsHarness = {
    environment,
    node: await startTestNode(environment, [qsModule]),
    qs: undefined as unknown as QsClient,
    async restart() {
      await harness.node.node.stop();
      harness.node = await startTestNode(environment, [qsModule]);
      harness.qs = new QsClient(new HomeserverHttp(harness.node.url));
    },
    async stop() {
      await harness.node.node.stop();
      await environment.cleanup();
    },
  };
  harness.qs = new QsClient(new HomeserverHttp(harness.node.url));
  return harness;
}

export interface TestClient {
  owner: ClientRecordOwner;
  queueKeys: HpkeKeyPair;
}

export interface TestUser {
  user: UserRecordOwner;
  friendshipToken: Uint8Array;
  clients: TestClient[];
}

export async function newUser(qs: QsClient): Promise<TestUser> {
  const userKeys = generateSigningKeyPair();
  const clientKeys = generateSigningKeyPair();
  const queueKeys = generateHpkeKeyPair();
  const friendshipToken = randomBytes(32);
  const created = await qs.createUserRecord({
    userRecordAuthKey: userKeys.publicKey, friendshipToken, clientRecordAuthKey: clientKeys.publicKey, queueEncryptionKey: queueKeys.publicKey,
  });
  return {
    user: { puid: created.puid, signingKey: userKeys.privateKey },
    friendshipToken,
    clients: [{ owner: { pcid: created.pcid, signingKey: clientKeys.privateKey }, queueKeys }],
  };
}

export async function addClient(qs: QsClient, user: TestUser): Promise<TestClient> {
  const clientKeys = generateSigningKeyPair();
  const queueKeys = generateHpkeKeyPair();
  const pcid = await qs.createClientRecord(user.user, { clientRecordAuthKey: clientKeys.publicKey, queueEncryptionKey: queueKeys.publicKey });
  const client = { owner: { pcid, signingKey: clientKeys.privateKey }, queueKeys };
  user.clients.push(client);
  return client;
}

export async function queueConfig(harness: QsHarness, client: TestClient): Promise<hs.qs.IClientQueueConfig> {
  const keys = await harness.qs.getPublicKeys();
  return sealQueueConfig({ domain: harness.environment.domain, qsPublicKey: keys.queueConfigEncryptionKey, pcid: client.owner.pcid, owner: client.queueKeys });
}

export function receiver(harness: QsHarness, client: TestClient): QueueReceiver {
  return new QueueReceiver(harness.qs, client.owner, client.queueKeys);
}

/** The DS side: one fan-out message to the given configs. */
export function enqueue(harness: QsHarness, configs: hs.qs.IClientQueueConfig[], groupId: Uint8Array, payload: Uint8Array): Promise<LocalEnqueueOutcome> {
  return localEnqueue(harness.node.node.actors, { clientQueueConfigs: configs, groupId, payload });
}

let suite: Promise<CiphersuiteImpl> | undefined;

export interface KeyPackageOptions {
  lastResort?: boolean;
  /** Leave the QueueConfig extension out (to test the refusal). */
  withoutQueueConfig?: boolean;
}

/** A real MLS KeyPackage (as an MLSMessage) carrying `config` in the QueueConfig extension. */
export async function keyPackageTuple(config: hs.qs.IClientQueueConfig, options: KeyPackageOptions = {}): Promise<hs.qs.IKeyPackageTuple> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(MLS_CIPHERSUITE_NAME), nobleCryptoProvider);
  const capabilities = defaultCapabilities();
  capabilities.extensions = [...capabilities.extensions, MlsExtensionType.QUEUE_CONFIG, MlsExtensionType.LAST_RESORT];
  const extensions = [];
  if (!options.withoutQueueConfig) extensions.push({ extensionType: MlsExtensionType.QUEUE_CONFIG, extensionData: hs.qs.ClientQueueConfig.encode(config).finish() });
  if (options.lastResort) extensions.push({ extensionType: MlsExtensionType.LAST_RESORT, extensionData: new Uint8Array() });
  const credential = { credentialType: 'basic' as const, identity: randomBytes(16) };
  const { publicPackage } = await generateKeyPackage(credential, capabilities, defaultLifetime, extensions, await suite);
  return {
    keyPackage: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage }),
    iccCiphertext: randomBytes(48),
  };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Asserts a typed refusal. */
export async function refused(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: number): Promise<void> {
  const error = await t.throwsAsync(promise, { instanceOf: HsError });
  t.is(error?.code, code, `expected ${HsError.prototype.constructor.name} code ${code}, got ${error?.code}: ${error?.message}`);
}
