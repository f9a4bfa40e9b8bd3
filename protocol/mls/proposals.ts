// Proposal validity on its own (RFC 9420 §12.1) and the per-epoch proposal store. Rules that depend
// on the other proposals of a commit are in commit.ts.
import { MlsErrorCode, ensure } from './errors.js';
import { authenticate } from './sender.js';
import type { StoredProposal, ViewState } from './state.js';
import { bytesEqual, toHex } from './tls.js';
import { crypto, type FramedContent, type FramedContentAuthData, type Proposal, type Sender } from './tsmls.js';
import { validateKeyPackage, validateMemberLeaf, type LeafRules } from './validate.js';

export function leafRules(state: ViewState, now: bigint | undefined): LeafRules {
  return { suite: state.suite, groupId: state.context.groupId, extensions: state.context.extensions, now };
}

/** Checks a proposal in isolation, as sent by `sender` (whose leaf index is `senderLeaf` for members). */
export async function validateProposal(
  state: ViewState,
  proposal: Proposal,
  sender: Sender,
  senderLeaf: number | undefined,
  now: bigint | undefined,
): Promise<void> {
  const rules = leafRules(state, now);
  switch (proposal.proposalType) {
    case 'add':
      await validateKeyPackage(proposal.add.keyPackage, state.context, rules);
      return;
    case 'update': {
      ensure(senderLeaf !== undefined, MlsErrorCode.InvalidProposal, 'only members can send an Update');
      const current = state.tree.leaf(senderLeaf)!;
      ensure(
        !bytesEqual(current.encryptionKey, proposal.update.leafNode.hpkePublicKey),
        MlsErrorCode.InvalidProposal,
        'an Update must change the encryption key',
      );
      await validateMemberLeaf(proposal.update.leafNode, 'update', senderLeaf, rules);
      return;
    }
    case 'remove':
      ensure(state.tree.leaf(proposal.remove.removed) !== undefined, MlsErrorCode.InvalidProposal, `leaf ${proposal.remove.removed} is blank`);
      return;
    case 'psk': {
      // RFC 9420 §8.4: a nonce of KDF.Nh bytes; resumption PSKs in ordinary commits are for the application.
      const id = proposal.psk.preSharedKeyId;
      ensure(id.pskNonce.length === state.hash(new Uint8Array(0)).length, MlsErrorCode.InvalidProposal, 'psk_nonce must be KDF.Nh bytes');
      ensure(id.psktype === 'external' || id.usage === 'application', MlsErrorCode.InvalidProposal, 'resumption PSK with usage other than application');
      ensure(sender.senderType !== 'new_member_proposal', MlsErrorCode.InvalidProposal, 'new members may only propose Add');
      return;
    }
    case 'reinit':
    case 'group_context_extensions':
      ensure(sender.senderType !== 'new_member_proposal', MlsErrorCode.InvalidProposal, 'new members may only propose Add');
      return;
    case 'external_init':
      ensure(sender.senderType === 'new_member_commit', MlsErrorCode.InvalidProposal, 'ExternalInit only in an external commit');
      return;
    default:
      ensure(false, MlsErrorCode.InvalidProposal, `unsupported proposal type ${String(proposal.proposalType)}`);
  }
}

/** A PublicMessage proposal: authenticate, validate, and store it under its reference for this epoch. */
export async function receiveProposal(
  state: ViewState,
  content: FramedContent & { contentType: 'proposal' },
  auth: FramedContentAuthData,
  now: bigint | undefined,
): Promise<{ state: ViewState; stored: StoredProposal }> {
  const { leafIndex } = await authenticate(state, content, auth);
  await validateProposal(state, content.proposal, content.sender, leafIndex, now);
  const authenticated = { wireformat: 'mls_public_message' as const, content, auth };
  const ref = await crypto.proposalRef(authenticated, state.suite);
  const stored: StoredProposal = { ref, content: authenticated, proposal: content.proposal, senderLeaf: leafIndex };
  const proposals = new Map(state.proposals);
  proposals.set(toHex(ref), stored);
  return { state: { ...state, proposals }, stored };
}
