// Replays an IETF passive-client vector through the public view. The Welcome is opened with ts-mls and
// the vector's private keys (the DS never could); the view is then built from the decrypted GroupInfo
// and must accept every epoch. A ts-mls passive client follows along as the reference: after each
// commit the view's epoch, tree hash and confirmed transcript hash must equal the client's.
import { decodeMlsMessage, type MLSMessage } from 'ts-mls/message.js';
import { encodeGroupInfo } from 'ts-mls/groupInfo.js';
import { encodeGroupContext } from 'ts-mls/groupContext.js';
import { decryptGroupInfo, decryptGroupSecrets } from 'ts-mls/welcome.js';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { accumulatePskSecret } from 'ts-mls/pskIndex.js';
import { decodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { joinGroup, makePskIndex, type ClientState } from 'ts-mls/clientState.js';
import { processMessage } from 'ts-mls/processMessages.js';
import { acceptAll } from 'ts-mls/incomingMessageAction.js';
import { getCiphersuiteFromId, type CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js';
import { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
import { nobleCryptoProvider } from 'ts-mls/crypto/implementation/noble/provider.js';
import { PublicGroupView } from '../../../protocol/mls/index.js';
import { hex } from './vectors.js';

export interface PassiveVector {
  cipher_suite: number;
  external_psks: { psk_id: string; psk: string }[];
  key_package: string;
  signature_priv: string;
  encryption_priv: string;
  init_priv: string;
  welcome: string;
  ratchet_tree: string | null;
  epochs: { proposals: string[]; commit: string; epoch_authenticator: string }[];
}

export interface ReplayReport {
  epochs: number;
  accepted: number;
  /** Epochs whose state matched the ts-mls reference client (0 when the client could not follow). */
  compared: number;
  /** Whether the reference client joined and its initial context equals the view's. */
  joinCompared: boolean;
  failures: string[];
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`cannot ${what}`);
  return v;
}

export async function replayPassiveCase(v: PassiveVector, withReference = true): Promise<ReplayReport> {
  const cs = await getCiphersuiteImpl(getCiphersuiteFromId(v.cipher_suite as CiphersuiteId), nobleCryptoProvider);
  const kpMsg = must(decodeMlsMessage(hex(v.key_package), 0), 'decode key package')[0];
  const welcomeMsg = must(decodeMlsMessage(hex(v.welcome), 0), 'decode welcome')[0];
  if (kpMsg.wireformat !== 'mls_key_package' || welcomeMsg.wireformat !== 'mls_welcome') throw new Error('unexpected vector messages');
  const keyPackage = kpMsg.keyPackage;
  const welcome = welcomeMsg.welcome;
  const psks = Object.fromEntries(v.external_psks.map((p) => [Buffer.from(p.psk_id, 'hex').toString('base64'), hex(p.psk)]));
  const pskIndex = makePskIndex(undefined, psks);

  const ref = await makeKeyPackageRef(keyPackage, cs.hash);
  const secrets = must(await decryptGroupSecrets(await cs.hpke.importPrivateKey(hex(v.init_priv)), ref, welcome, cs.hpke), 'open group secrets');
  const [pskSecret] = await accumulatePskSecret(secrets.psks, pskIndex, cs, new Uint8Array(cs.kdf.size));
  const groupInfo = must(await decryptGroupInfo(welcome, secrets.joinerSecret, pskSecret, cs), 'open group info');
  const treeBytes = v.ratchet_tree === null ? undefined : hex(v.ratchet_tree);

  const report: ReplayReport = { epochs: v.epochs.length, accepted: 0, compared: 0, joinCompared: false, failures: [] };
  let view: PublicGroupView;
  try {
    view = await PublicGroupView.fromGroupInfo(encodeGroupInfo(groupInfo), treeBytes);
  } catch (e) {
    report.failures.push(`welcome: ${String(e)}`);
    return report;
  }

  let client: ClientState | undefined;
  if (withReference)
    try {
      const tree = treeBytes === undefined ? undefined : must(decodeRatchetTree(treeBytes, 0), 'decode tree')[0];
      client = await joinGroup(
        welcome,
        keyPackage,
        { initPrivateKey: hex(v.init_priv), hpkePrivateKey: hex(v.encryption_priv), signaturePrivateKey: hex(v.signature_priv) },
        pskIndex,
        cs,
        tree,
      );
    } catch {
      client = undefined; // ts-mls 1.6.4 refuses some valid trees (see DESIGN.md); the view is still checked.
    }

  if (client !== undefined) {
    if (!eq(encodeGroupContext(client.groupContext), view.groupContextBytes)) report.failures.push('welcome: group context differs from the client');
    else report.joinCompared = true;
  }

  const follow = async (bytes: Uint8Array) => {
    if (client === undefined) return;
    try {
      const m = must(decodeMlsMessage(bytes, 0), 'decode')[0] as MLSMessage;
      if (m.wireformat !== 'mls_public_message' && m.wireformat !== 'mls_private_message') throw new Error('not a message');
      const r = await processMessage(m, client, pskIndex, acceptAll, cs);
      client = r.kind === 'newState' ? r.newState : r.newState;
    } catch {
      client = undefined;
    }
  };

  for (const [i, epoch] of v.epochs.entries()) {
    try {
      for (const p of epoch.proposals) {
        view = (await view.process(hex(p))).view;
        await follow(hex(p));
      }
      const before = view.epoch;
      const result = await view.process(hex(epoch.commit));
      if (result.kind !== 'commit') throw new Error(`epoch ${i}: not a commit`);
      view = result.view;
      if (view.epoch !== before + 1n) throw new Error(`epoch ${i}: epoch did not advance`);
      await follow(hex(epoch.commit));
      if (client !== undefined) {
        const c = client.groupContext;
        if (c.epoch !== view.epoch) throw new Error(`epoch ${i}: epoch ${view.epoch} vs client ${c.epoch}`);
        if (!eq(c.treeHash, view.treeHash)) throw new Error(`epoch ${i}: tree hash diverges from the client`);
        if (!eq(c.confirmedTranscriptHash, view.groupContext.confirmedTranscriptHash))
          throw new Error(`epoch ${i}: transcript hash diverges from the client`);
        report.compared++;
      }
      report.accepted++;
    } catch (e) {
      report.failures.push(`epoch ${i}: ${String(e)}`);
      break;
    }
  }
  return report;
}


