// A group of real ts-mls clients (ciphersuite 1, the DS profile) with the public view following along.
// Every message the view sees is produced by a client; after each step the view's GroupContext and tree
// must equal every member's.
import { encodeMlsMessage, type MLSMessage } from 'ts-mls/message.js';
import { createGroup, joinGroup, type ClientState } from 'ts-mls/clientState.js';
import { createCommit, createGroupInfoWithExternalPubAndRatchetTree, joinGroupExternal } from 'ts-mls/createCommit.js';
import { createApplicationMessage, createProposal } from 'ts-mls/createMessage.js';
import { processMessage } from 'ts-mls/processMessages.js';
import { acceptAll } from 'ts-mls/incomingMessageAction.js';
import { emptyPskIndex } from 'ts-mls/pskIndex.js';
import { generateKeyPackage, generateKeyPackageWithKey, type KeyPackage, type PrivateKeyPackage } from 'ts-mls/keyPackage.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { defaultLifetime } from 'ts-mls/lifetime.js';
import { encodeGroupContext } from 'ts-mls/groupContext.js';
import { encodeRatchetTree, stripBlankNodes } from 'ts-mls/ratchetTree.js';
import { encodeLeafNodeTBS, type LeafNodeUpdate } from 'ts-mls/leafNode.js';
import { signWithLabel } from 'ts-mls/crypto/signature.js';
import { getCiphersuiteFromName, type CiphersuiteImpl } from 'ts-mls/crypto/ciphersuite.js';
import { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
import { nobleCryptoProvider } from 'ts-mls/crypto/implementation/noble/provider.js';
import type { Proposal } from 'ts-mls/proposal.js';
import type { Welcome } from 'ts-mls/welcome.js';
import { PublicGroupView, type ProcessResult } from '../../../protocol/mls/index.js';

export const SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;
let suitePromise: Promise<CiphersuiteImpl> | undefined;
export function clientSuite(): Promise<CiphersuiteImpl> {
  suitePromise ??= getCiphersuiteImpl(getCiphersuiteFromName(SUITE), nobleCryptoProvider);
  return suitePromise;
}

export const wire = (m: MLSMessage): Uint8Array => encodeMlsMessage(m);
const bytesOf = (s: string) => new TextEncoder().encode(s);

export interface Identity {
  name: string;
  publicPackage: KeyPackage;
  privatePackage: PrivateKeyPackage;
}

export async function newIdentity(name: string): Promise<Identity> {
  const cs = await clientSuite();
  const kp = await generateKeyPackage({ credentialType: 'basic', identity: bytesOf(name) }, defaultCapabilities(), defaultLifetime, [], cs);
  return { name, ...kp };
}

/** Deterministic PRNG so a failing random sequence can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PreparedCommit {
  committer: string;
  newState: ClientState;
  commit: Uint8Array;
  welcome: Uint8Array | undefined;
  welcomeValue: Welcome | undefined;
  groupInfo: Uint8Array;
  joiners: Identity[];
}

export class TestGroup {
  readonly members = new Map<string, ClientState>();
  private counter = 0;
  /** Keys of pending Update proposals, installed into the proposer's state before it sees the commit. */
  private pendingUpdateKeys = new Map<string, Uint8Array>();

  private constructor(
    readonly cs: CiphersuiteImpl,
    public view: PublicGroupView,
  ) {}

  static async create(size: number, groupId = 'group-' + Math.random().toString(36).slice(2)): Promise<TestGroup> {
    const cs = await clientSuite();
    const founder = await newIdentity('m0');
    const state = await createGroup(bytesOf(groupId), founder.publicPackage, founder.privatePackage, [], cs);
    const view = await PublicGroupView.fromGroupContext(
      encodeGroupContext(state.groupContext),
      encodeRatchetTree(state.ratchetTree),
      state.confirmationTag,
    );
    const g = new TestGroup(cs, view);
    g.counter = 1;
    g.members.set('m0', state);
    if (size > 1) await g.apply(await g.prepareCommit('m0', { adds: size - 1 }));
    return g;
  }

  names(): string[] {
    return [...this.members.keys()];
  }

  state(name: string): ClientState {
    const s = this.members.get(name);
    if (s === undefined) throw new Error(`no member ${name}`);
    return s;
  }

  leafOf(name: string): number {
    return this.state(name).privatePath.leafIndex;
  }

  nameAt(leaf: number): string {
    const n = this.names().find((m) => this.leafOf(m) === leaf);
    if (n === undefined) throw new Error(`no member at leaf ${leaf}`);
    return n;
  }

  async groupInfoOf(state: ClientState): Promise<Uint8Array> {
    const gi = await createGroupInfoWithExternalPubAndRatchetTree(state, [], this.cs);
    return wire({ version: 'mls10', wireformat: 'mls_group_info', groupInfo: gi });
  }

  async prepareCommit(
    committer: string,
    opts: { adds?: number; removes?: string[]; extra?: Proposal[] } = {},
  ): Promise<PreparedCommit> {
    const joiners: Identity[] = [];
    for (let i = 0; i < (opts.adds ?? 0); i++) joiners.push(await newIdentity(`m${this.counter++}`));
    const extraProposals: Proposal[] = [
      ...joiners.map((j) => ({ proposalType: 'add' as const, add: { keyPackage: j.publicPackage } })),
      ...(opts.removes ?? []).map((n) => ({ proposalType: 'remove' as const, remove: { removed: this.leafOf(n) } })),
      ...(opts.extra ?? []),
    ];
    const r = await createCommit(
      { state: this.state(committer), cipherSuite: this.cs },
      { wireAsPublicMessage: true, extraProposals, ratchetTreeExtension: true },
    );
    return {
      committer,
      newState: r.newState,
      commit: wire(r.commit),
      welcome: r.welcome === undefined ? undefined : wire({ version: 'mls10', wireformat: 'mls_welcome', welcome: r.welcome }),
      welcomeValue: r.welcome,
      groupInfo: await this.groupInfoOf(r.newState),
      joiners,
    };
  }

  /** The view accepts the commit (with its Welcome and GroupInfo), then every member follows it. */
  async apply(c: PreparedCommit): Promise<ProcessResult & { kind: 'commit' }> {
    const opts = { groupInfo: c.groupInfo, ...(c.welcome === undefined ? {} : { welcome: c.welcome }) };
    const result = await this.view.process(c.commit, opts);
    if (result.kind !== 'commit') throw new Error('view did not see a commit');
    this.view = result.view;
    await this.deliverToMembers(c.commit, c.committer, new Set(result.removed));
    this.members.set(c.committer, c.newState);
    for (const j of c.joiners) {
      const state = await joinGroup(c.welcomeValue!, j.publicPackage, j.privatePackage, emptyPskIndex, this.cs);
      this.members.set(j.name, state);
    }
    return result;
  }

  /** Every member except `except` processes a handshake message; removed members are dropped. */
  private async deliverToMembers(message: Uint8Array, except: string | undefined, removedLeaves: Set<number>): Promise<void> {
    const { decodeMlsMessage } = await import('ts-mls/message.js');
    const m = decodeMlsMessage(message, 0)![0];
    if (m.wireformat !== 'mls_public_message' && m.wireformat !== 'mls_private_message') throw new Error('not a handshake');
    for (const name of this.names()) {
      if (name === except) continue;
      if (removedLeaves.has(this.leafOf(name))) {
        this.members.delete(name);
        continue;
      }
      let state = this.state(name);
      const key = this.pendingUpdateKeys.get(name);
      if (key !== undefined && m.wireformat === 'mls_public_message' && m.publicMessage.content.contentType === 'commit') {
        const leafNode = 2 * state.privatePath.leafIndex;
        state = { ...state, privatePath: { ...state.privatePath, privateKeys: { ...state.privatePath.privateKeys, [leafNode]: key } } };
        this.pendingUpdateKeys.delete(name);
      }
      const r = await processMessage(m, state, emptyPskIndex, acceptAll, this.cs);
      this.members.set(name, r.newState);
    }
  }

  /** A member sends a proposal as PublicMessage; the view and all members store it. */
  async propose(proposer: string, proposal: Proposal): Promise<ProcessResult & { kind: 'proposal' }> {
    const r = await createProposal(this.state(proposer), true, proposal, this.cs);
    const bytes = wire(r.message);
    const result = await this.view.process(bytes);
    if (result.kind !== 'proposal') throw new Error('view did not see a proposal');
    this.view = result.view;
    this.members.set(proposer, r.newState);
    await this.deliverToMembers(bytes, proposer, new Set());
    return result;
  }

  /**
   * An Update proposal with a fresh encryption key, signed by the member (ts-mls has no helper for it).
   * Unless `install` is false, the member takes the new key when it next processes a commit.
   */
  async updateProposal(name: string, install = true): Promise<Proposal> {
    const state = this.state(name);
    const node = state.ratchetTree[2 * state.privatePath.leafIndex];
    if (node?.nodeType !== 'leaf') throw new Error('own leaf missing');
    const pair = await this.cs.hpke.generateKeyPair();
    const hpkePublicKey = await this.cs.hpke.exportPublicKey(pair.publicKey);
    if (install) this.pendingUpdateKeys.set(name, await this.cs.hpke.exportPrivateKey(pair.privateKey));
    const { signature: _old, ...leaf } = node.leaf;
    const tbs = {
      ...leaf,
      hpkePublicKey,
      leafNodeSource: 'update' as const,
      extensions: leaf.extensions,
      groupId: state.groupContext.groupId,
      leafIndex: state.privatePath.leafIndex,
    };
    const signature = await signWithLabel(state.signaturePrivateKey, 'LeafNodeTBS', encodeLeafNodeTBS(tbs), this.cs.signature);
    const leafNode: LeafNodeUpdate = {
      hpkePublicKey,
      signaturePublicKey: leaf.signaturePublicKey,
      credential: leaf.credential,
      capabilities: leaf.capabilities,
      leafNodeSource: 'update',
      extensions: leaf.extensions,
      signature,
    };
    return { proposalType: 'update', update: { leafNode } };
  }

  /** External commit by a new client, or a resync by `rejoining` (removing its old leaf). */
  async prepareExternalJoin(rejoining?: string): Promise<{ name: string; commit: Uint8Array; state: ClientState; groupInfo: Uint8Array }> {
    const giBytes = this.view.groupInfo();
    if (giBytes === undefined) throw new Error('view has no GroupInfo');
    const { decodeMlsMessage } = await import('ts-mls/message.js');
    const gi = decodeMlsMessage(giBytes, 0)![0];
    if (gi.wireformat !== 'mls_group_info') throw new Error('not a GroupInfo');
    let identity: Identity;
    if (rejoining === undefined) identity = await newIdentity(`m${this.counter++}`);
    else {
      const old = this.state(rejoining);
      const leaf = old.ratchetTree[2 * old.privatePath.leafIndex];
      if (leaf?.nodeType !== 'leaf') throw new Error('own leaf missing');
      const kp = await generateKeyPackageWithKey(
        leaf.leaf.credential,
        defaultCapabilities(),
        defaultLifetime,
        [],
        { signKey: old.signaturePrivateKey, publicKey: leaf.leaf.signaturePublicKey },
        this.cs,
      );
      identity = { name: rejoining, ...kp };
    }
    const r = await joinGroupExternal(gi.groupInfo, identity.publicPackage, identity.privatePackage, rejoining !== undefined, this.cs);
    return {
      name: identity.name,
      commit: wire({ version: 'mls10', wireformat: 'mls_public_message', publicMessage: r.publicMessage }),
      state: r.newState,
      groupInfo: await this.groupInfoOf(r.newState),
    };
  }

  async applyExternal(j: { name: string; commit: Uint8Array; state: ClientState; groupInfo: Uint8Array }): Promise<ProcessResult & { kind: 'commit' }> {
    const result = await this.view.process(j.commit, { groupInfo: j.groupInfo });
    if (result.kind !== 'commit') throw new Error('view did not see a commit');
    this.view = result.view;
    const rejoining = this.members.has(j.name);
    if (rejoining) this.members.delete(j.name);
    await this.deliverToMembers(j.commit, undefined, new Set(result.removed));
    this.members.set(j.name, j.state);
    return result;
  }

  async applicationMessage(sender: string, text: string): Promise<Uint8Array> {
    const r = await createApplicationMessage(this.state(sender), bytesOf(text), this.cs);
    this.members.set(sender, r.newState);
    return wire({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: r.privateMessage });
  }

  /** Differences between the view and each member (empty when all agree). */
  divergences(): string[] {
    const out: string[] = [];
    const ctx = Buffer.from(this.view.groupContextBytes);
    const tree = Buffer.from(this.view.ratchetTree());
    for (const [name, s] of this.members) {
      if (!ctx.equals(Buffer.from(encodeGroupContext(s.groupContext)))) out.push(`${name}: group context differs (epoch ${s.groupContext.epoch} vs view ${this.view.epoch})`);
      if (!tree.equals(Buffer.from(encodeRatchetTree(stripBlankNodes(s.ratchetTree))))) out.push(`${name}: ratchet tree differs`);
    }
    return out;
  }
}
