// Who signed a handshake message, and with which key (RFC 9420 §6.1, §6.2). The DS cannot check a
// membership tag (it has no membership key), so the content signature is the whole authentication.
import { MlsErrorCode, MlsValidationError, ensure } from './errors.js';
import type { ViewState } from './state.js';
import { Reader } from './tls.js';
import { codec, crypto, extensionNumber, type Extension, type FramedContent, type FramedContentAuthData } from './tsmls.js';

const EXTERNAL_SENDERS = 5;

/** external_senders per RFC 9420 §12.1.8.1 (ts-mls 1.6.4 encodes it differently, so it is read here). */
export function externalSenderKeys(extensions: Extension[]): Uint8Array[] {
  const ext = extensions.find((e) => extensionNumber(e) === EXTERNAL_SENDERS);
  if (ext === undefined) return [];
  const r = new Reader(ext.extensionData);
  const list = r.vec();
  r.end();
  const lr = new Reader(list);
  const keys: Uint8Array[] = [];
  while (!lr.done) {
    keys.push(lr.vec());
    const [, end] = codec.decodeCredentialAt(list, lr.offset);
    lr.offset = end;
  }
  return keys;
}

export interface Authenticated {
  signatureKey: Uint8Array;
  /** Member sender's leaf index. */
  leafIndex: number | undefined;
}

/** Resolves the sender's signature key and verifies the content signature against the current context. */
export async function authenticate(
  state: ViewState,
  content: FramedContent,
  auth: FramedContentAuthData,
): Promise<Authenticated> {
  const sender = content.sender;
  let signatureKey: Uint8Array;
  let leafIndex: number | undefined;
  switch (sender.senderType) {
    case 'member': {
      const leaf = state.tree.leaf(sender.leafIndex);
      ensure(leaf !== undefined, MlsErrorCode.UnknownSender, `no member at leaf ${sender.leafIndex}`);
      signatureKey = leaf.signatureKey;
      leafIndex = sender.leafIndex;
      break;
    }
    case 'external': {
      ensure(content.contentType === 'proposal', MlsErrorCode.WrongContentType, 'external senders may only propose');
      let keys: Uint8Array[];
      try {
        keys = externalSenderKeys(state.context.extensions);
      } catch {
        throw new MlsValidationError(MlsErrorCode.UnknownSender, 'external_senders extension unreadable');
      }
      const key = keys[sender.senderIndex];
      ensure(key !== undefined, MlsErrorCode.UnknownSender, `no external sender ${sender.senderIndex}`);
      signatureKey = key;
      break;
    }
    case 'new_member_proposal': {
      ensure(
        content.contentType === 'proposal' && content.proposal.proposalType === 'add',
        MlsErrorCode.InvalidProposal,
        'a new_member_proposal sender may only propose its own Add',
      );
      signatureKey = content.proposal.add.keyPackage.leafNode.signaturePublicKey;
      break;
    }
    case 'new_member_commit': {
      ensure(content.contentType === 'commit', MlsErrorCode.WrongContentType, 'new_member_commit sender must send a commit');
      const path = content.commit.path;
      ensure(path !== undefined, MlsErrorCode.MissingUpdatePath, 'an external commit needs an update path');
      signatureKey = path.leafNode.signaturePublicKey;
      break;
    }
  }
  const ok = await crypto.verifyContent(signatureKey, 'mls_public_message', content, auth, state.context, state.suite);
  ensure(ok, MlsErrorCode.InvalidSignature, 'content signature does not verify');
  return { signatureKey, leafIndex };
}
