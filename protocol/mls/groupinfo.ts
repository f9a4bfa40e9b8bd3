// GroupInfo as the DS stores and serves it: signed by a member, for exactly the view's current epoch.
// Without the epoch secret the DS cannot check a confirmation tag directly, but the interim transcript
// hash commits to it, so a GroupInfo whose tag does not reproduce that hash is refused.
import { MlsErrorCode, ensure } from './errors.js';
import type { ViewState } from './state.js';
import { bytesEqual } from './tls.js';
import { codec, crypto, extensionNumber, type GroupInfo } from './tsmls.js';

const RATCHET_TREE = 2;

/** Accepts MLSMessage(GroupInfo) or a bare GroupInfo; returns it with its MLSMessage encoding. */
export function decodeGroupInfoInput(bytes: Uint8Array): { groupInfo: GroupInfo; message: Uint8Array } {
  let message;
  try {
    message = codec.decodeMessage(bytes);
  } catch {
    // Not an MLSMessage: it must then be a bare GroupInfo.
    const groupInfo = codec.decodeGroupInfo(bytes);
    return { groupInfo, message: codec.encodeMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo }) };
  }
  ensure(message.wireformat === 'mls_group_info', MlsErrorCode.WrongWireFormat, 'expected a GroupInfo');
  return { groupInfo: message.groupInfo, message: bytes };
}

export function ratchetTreeExtension(gi: GroupInfo): Uint8Array | undefined {
  return gi.extensions.find((e) => extensionNumber(e) === RATCHET_TREE)?.extensionData;
}

/** Verifies a GroupInfo against the state it claims to describe; `signer` pins the expected signer. */
export async function verifyGroupInfo(state: ViewState, gi: GroupInfo, signer?: number): Promise<void> {
  const bad = (cond: boolean, msg: string) => ensure(!cond, MlsErrorCode.InvalidGroupInfo, msg);
  bad(!bytesEqual(codec.encodeGroupContext(gi.groupContext), state.contextBytes), 'group context differs from the view');
  const interim = await crypto.interimTranscriptHash(state.context.confirmedTranscriptHash, gi.confirmationTag, state.suite);
  bad(!bytesEqual(interim, state.interimTranscriptHash), 'confirmation tag does not match the transcript');
  bad(signer !== undefined && gi.signer !== signer, `signed by leaf ${gi.signer}, expected the committer ${signer}`);
  const leaf = state.tree.leaf(gi.signer);
  ensure(leaf !== undefined, MlsErrorCode.UnknownSender, `GroupInfo signer ${gi.signer} is not a member`);
  ensure(await crypto.verifyGroupInfo(gi, leaf.signatureKey, state.suite), MlsErrorCode.InvalidSignature, 'GroupInfo signature');
  const tree = ratchetTreeExtension(gi);
  bad(tree !== undefined && !bytesEqual(tree, state.tree.encode()), 'ratchet_tree extension differs from the view');
}
