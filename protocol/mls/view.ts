// PublicGroupView: what the Delivery Service knows about one MLS group, with no group secret. Every
// method that accepts a message returns a new view; a refused message throws MlsValidationError and the
// view it was given stays as it was.
import { checkWelcomeRefs, processCommit, type CommitOutcome } from './commit.js';
import { MlsErrorCode, MlsValidationError, ensure } from './errors.js';
import { decodeGroupInfoInput, ratchetTreeExtension, verifyGroupInfo } from './groupinfo.js';
import { hashFunction } from './hash.js';
import { receiveProposal } from './proposals.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { epochState, type ViewState } from './state.js';
import { bytesEqual } from './tls.js';
import { PublicTree } from './tree.js';
import {
  codec,
  crypto,
  suiteFromName,
  type Credential,
  type GroupContext,
  type SuiteCrypto,
} from './tsmls.js';
import { validateWholeTree } from './validate.js';

export interface Member {
  leafIndex: number;
  credential: Credential;
  signatureKey: Uint8Array;
}

export interface ProcessOptions {
  /** The Welcome sent with an adding commit (MLSMessage bytes); its recipients must be the added KeyPackages. */
  welcome?: Uint8Array;
  /** The committer-signed GroupInfo for the new epoch (MLSMessage or bare GroupInfo bytes). */
  groupInfo?: Uint8Array;
  /** Current time in seconds; when given, KeyPackage lifetimes are enforced. */
  now?: bigint;
}

export type ProcessResult =
  | { kind: 'proposal'; view: PublicGroupView; proposalRef: Uint8Array; senderLeaf: number | undefined }
  | ({ kind: 'commit'; view: PublicGroupView } & CommitOutcome)
  | { kind: 'application'; view: PublicGroupView; epoch: bigint };

export interface PrivateMessageOptions {
  /** Relay handshake PrivateMessages too (peers such as OpenMLS send commits that way). */
  allowHandshake?: boolean;
  /** How many past epochs an application message may be from (default 0). */
  pastEpochs?: number;
}

export interface PrivateMessageHeader {
  groupId: Uint8Array;
  epoch: bigint;
  contentType: 'application' | 'proposal' | 'commit';
  authenticatedData: Uint8Array;
}

async function stateFor(suite: SuiteCrypto, context: GroupContext, tree: PublicTree, interim: Uint8Array): Promise<ViewState> {
  await validateWholeTree(tree, context, { suite, groupId: context.groupId, extensions: context.extensions });
  return epochState(suite, context, tree, interim);
}

/**
 * Untrusted input must end in a typed refusal: a library error on some input no rule anticipated is
 * reported as Malformed rather than escaping as an untyped exception.
 */
async function refuseUnexpected<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof MlsValidationError) throw e;
    throw new MlsValidationError(MlsErrorCode.Malformed, `unprocessable input (${e instanceof Error ? e.message : String(e)})`);
  }
}

async function suiteOf(context: GroupContext): Promise<SuiteCrypto> {
  return suiteFromName(context.cipherSuite);
}

export class PublicGroupView {
  private constructor(private readonly state: ViewState) {}

  /**
   * From a member-signed GroupInfo (MLSMessage or bare). The tree comes from its ratchet_tree extension
   * or, when the GroupInfo has none, from `ratchetTree`.
   */
  static async fromGroupInfo(groupInfo: Uint8Array, ratchetTree?: Uint8Array): Promise<PublicGroupView> {
    return refuseUnexpected(() => PublicGroupView.fromGroupInfoUnchecked(groupInfo, ratchetTree));
  }

  private static async fromGroupInfoUnchecked(groupInfo: Uint8Array, ratchetTree?: Uint8Array): Promise<PublicGroupView> {
    const { groupInfo: gi, message } = decodeGroupInfoInput(groupInfo);
    const suite = await suiteOf(gi.groupContext);
    const treeBytes = ratchetTreeExtension(gi) ?? ratchetTree;
    ensure(treeBytes !== undefined, MlsErrorCode.InvalidGroupInfo, 'no ratchet tree given');
    const tree = PublicTree.decode(hashFunction(suite.hashAlgorithm), treeBytes);
    const interim = await crypto.interimTranscriptHash(gi.groupContext.confirmedTranscriptHash, gi.confirmationTag, suite);
    const state = await stateFor(suite, gi.groupContext, tree, interim);
    await verifyGroupInfo(state, gi);
    return new PublicGroupView({ ...state, groupInfo: message });
  }

  /**
   * From a GroupContext and a ratchet tree, e.g. at group creation, when the creator reports its epoch-0
   * context and confirmation tag before any GroupInfo exists.
   */
  static async fromGroupContext(groupContext: Uint8Array, ratchetTree: Uint8Array, confirmationTag: Uint8Array): Promise<PublicGroupView> {
    return refuseUnexpected(async () => {
      const context = codec.decodeGroupContext(groupContext);
      const suite = await suiteOf(context);
      const tree = PublicTree.decode(hashFunction(suite.hashAlgorithm), ratchetTree);
      const interim = await crypto.interimTranscriptHash(context.confirmedTranscriptHash, confirmationTag, suite);
      return new PublicGroupView(await stateFor(suite, context, tree, interim));
    });
  }

  static async loadSnapshot(bytes: Uint8Array): Promise<PublicGroupView> {
    return new PublicGroupView(await decodeSnapshot(bytes));
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.state);
  }

  get groupContext(): GroupContext {
    return this.state.context;
  }
  /** The exact TLS encoding of the current GroupContext. */
  get groupContextBytes(): Uint8Array {
    return this.state.contextBytes;
  }
  get groupId(): Uint8Array {
    return this.state.context.groupId;
  }
  get epoch(): bigint {
    return this.state.context.epoch;
  }
  get treeHash(): Uint8Array {
    return this.state.context.treeHash;
  }
  get interimTranscriptHash(): Uint8Array {
    return this.state.interimTranscriptHash;
  }
  /** True once a ReInit has been committed: the group accepts no further messages. */
  get reinitialized(): boolean {
    return this.state.reinitialized;
  }

  /** The ratchet tree as `optional<Node> ratchet_tree<V>`, trailing blanks stripped. */
  ratchetTree(): Uint8Array {
    return this.state.tree.encode();
  }

  /** MLSMessage(GroupInfo) of the current epoch, if one was accepted. */
  groupInfo(): Uint8Array | undefined {
    return this.state.groupInfo;
  }

  members(): Member[] {
    return [...this.state.tree.leaves()].map(([leafIndex, n]) => ({
      leafIndex,
      credential: n.leaf.credential,
      signatureKey: n.signatureKey,
    }));
  }

  member(leafIndex: number): Member | undefined {
    const n = this.state.tree.leaf(leafIndex);
    return n === undefined ? undefined : { leafIndex, credential: n.leaf.credential, signatureKey: n.signatureKey };
  }

  /** References of the proposals stored for the current epoch. */
  pendingProposals(): Uint8Array[] {
    return [...this.state.proposals.values()].map((p) => p.ref);
  }

  /** Group id must match; the epoch must be the current one or at most `lag` epochs old. */
  private checkHeader(groupId: Uint8Array, epoch: bigint, lag = 0n): void {
    const current = this.state.context.epoch;
    ensure(!this.state.reinitialized, MlsErrorCode.GroupReinitialized, 'the group was reinitialised; use the new group');
    ensure(bytesEqual(groupId, this.state.context.groupId), MlsErrorCode.WrongGroupId, 'message for another group');
    ensure(epoch <= current && epoch >= current - lag, MlsErrorCode.WrongEpoch, `message for epoch ${epoch}, group is at ${current}`);
  }

  /**
   * Checks the clear header of a PrivateMessage (group, epoch, content type) without decrypting it.
   * `pastEpochs` admits application messages from that many earlier epochs (members keep old epoch
   * secrets for messages that crossed a commit in flight); handshakes must be for the current epoch.
   */
  checkPrivateMessage(message: Uint8Array, options: PrivateMessageOptions = {}): PrivateMessageHeader {
    const m = codec.decodeMessage(message);
    ensure(m.wireformat === 'mls_private_message', MlsErrorCode.WrongWireFormat, `expected a PrivateMessage, got ${m.wireformat}`);
    const pm = m.privateMessage;
    this.checkHeader(pm.groupId, pm.epoch, pm.contentType === 'application' ? BigInt(options.pastEpochs ?? 0) : 0n);
    ensure(
      pm.contentType === 'application' || options.allowHandshake === true,
      MlsErrorCode.WrongContentType,
      'handshake messages must be sent as PublicMessage',
    );
    return { groupId: pm.groupId, epoch: pm.epoch, contentType: pm.contentType, authenticatedData: pm.authenticatedData };
  }

  /** Validates one MLSMessage (PublicMessage proposal or commit, or PrivateMessage application). */
  async process(message: Uint8Array, options: ProcessOptions = {}): Promise<ProcessResult> {
    return refuseUnexpected(() => this.processMessage(message, options));
  }

  private async processMessage(message: Uint8Array, options: ProcessOptions): Promise<ProcessResult> {
    const m = codec.decodeMessage(message);
    if (m.wireformat === 'mls_private_message') {
      const header = this.checkPrivateMessage(message);
      return { kind: 'application', view: this, epoch: header.epoch };
    }
    ensure(m.wireformat === 'mls_public_message', MlsErrorCode.WrongWireFormat, `unexpected ${m.wireformat}`);
    const { content, auth } = m.publicMessage;
    this.checkHeader(content.groupId, content.epoch);
    if (content.contentType === 'proposal') {
      const { state, stored } = await receiveProposal(this.state, content, auth, options.now);
      return { kind: 'proposal', view: new PublicGroupView(state), proposalRef: stored.ref, senderLeaf: stored.senderLeaf };
    }
    ensure(content.contentType === 'commit', MlsErrorCode.WrongContentType, 'application data must be a PrivateMessage');
    const { state, outcome } = await processCommit(this.state, content, auth, options.now);
    if (options.welcome !== undefined) {
      const w = codec.decodeMessage(options.welcome);
      ensure(w.wireformat === 'mls_welcome', MlsErrorCode.WelcomeMismatch, 'expected a Welcome');
      ensure(w.welcome.cipherSuite === state.context.cipherSuite, MlsErrorCode.WelcomeMismatch, 'Welcome ciphersuite');
      checkWelcomeRefs(
        w.welcome.secrets.map((s) => s.newMember),
        outcome,
      );
    }
    let next = state;
    if (options.groupInfo !== undefined) {
      const { groupInfo, message: gi } = decodeGroupInfoInput(options.groupInfo);
      await verifyGroupInfo(state, groupInfo, outcome.committer);
      next = { ...state, groupInfo: gi };
    }
    return { kind: 'commit', view: new PublicGroupView(next), ...outcome };
  }

  /** Accepts a member-signed GroupInfo for the current epoch (e.g. one sent after the commit). */
  async acceptGroupInfo(groupInfo: Uint8Array): Promise<PublicGroupView> {
    return refuseUnexpected(async () => {
      const { groupInfo: gi, message } = decodeGroupInfoInput(groupInfo);
      await verifyGroupInfo(this.state, gi);
      return new PublicGroupView({ ...this.state, groupInfo: message });
    });
  }
}


