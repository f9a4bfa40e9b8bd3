// The immutable state of a public group view. Processing a message builds a new ViewState (the tree
// is a copy-on-write clone), so a refused message leaves the previous state untouched.
import type { HashFn } from './hash.js';
import type { PublicTree } from './tree.js';
import { codec, type AuthenticatedContent, type GroupContext, type Proposal, type SuiteCrypto } from './tsmls.js';

export interface StoredProposal {
  ref: Uint8Array;
  /** The AuthenticatedContent the reference was computed over, as received. */
  content: AuthenticatedContent;
  proposal: Proposal;
  /** Leaf index of a member sender; undefined for external and new-member senders. */
  senderLeaf: number | undefined;
}

export interface ViewState {
  readonly suite: SuiteCrypto;
  readonly hash: HashFn;
  readonly context: GroupContext;
  /** Exact encoding of `context`, what signatures and GroupInfos are compared against. */
  readonly contextBytes: Uint8Array;
  readonly interimTranscriptHash: Uint8Array;
  readonly tree: PublicTree;
  /** Proposals of the current epoch by hex reference, in arrival order. */
  readonly proposals: ReadonlyMap<string, StoredProposal>;
  /** MLSMessage(GroupInfo) for the current epoch, once a member has signed one. */
  readonly groupInfo: Uint8Array | undefined;
  /** A ReInit was committed: the group is frozen (RFC 9420 §12.1.5) and takes no more messages. */
  readonly reinitialized: boolean;
}

/** The state at the start of an epoch: no proposals yet, no GroupInfo until a member signs one. */
export function epochState(
  suite: SuiteCrypto,
  context: GroupContext,
  tree: PublicTree,
  interimTranscriptHash: Uint8Array,
  reinitialized = false,
): ViewState {
  return {
    suite,
    hash: tree.hash,
    context,
    contextBytes: codec.encodeGroupContext(context),
    interimTranscriptHash,
    tree,
    proposals: new Map(),
    groupInfo: undefined,
    reinitialized,
  };
}
