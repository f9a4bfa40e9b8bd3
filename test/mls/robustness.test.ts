// Inputs outside the happy path: corrupted bytes, external senders (RFC encoding of external_senders,
// which ts-mls 1.6.4 gets wrong), and KeyPackage lifetimes.
import test from 'ava';
import { createGroup } from 'ts-mls/clientState.js';
import { encodeCredential } from 'ts-mls/credential.js';
import { createProposal } from 'ts-mls/createMessage.js';
import { signFramedContentTBS, toTbs, type FramedContent } from 'ts-mls/framedContent.js';
import { encodeGroupContext } from 'ts-mls/groupContext.js';
import { encodeMlsMessage } from 'ts-mls/message.js';
import { encodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { generateKeyPackage } from 'ts-mls/keyPackage.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { MlsErrorCode, MlsValidationError, PublicGroupView } from '../../protocol/mls/index.js';
import { Writer } from '../../protocol/mls/tls.js';
import { TestGroup, clientSuite, newIdentity, rng, wire } from './helpers/clients.js';

test('corrupted commits are refused with a typed error or accepted, never anything else', async (t) => {
  const g = await TestGroup.create(4);
  const c = await g.prepareCommit('m1', { adds: 1 });
  const rand = rng(99);
  const before = g.view.snapshot();
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const bytes = c.commit.slice(0, i % 10 === 0 ? Math.floor(rand() * c.commit.length) : c.commit.length);
    for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
      const at = Math.floor(rand() * bytes.length);
      bytes[at]! ^= 1 + Math.floor(rand() * 255);
    }
    try {
      await g.view.process(bytes, { welcome: c.welcome! });
      outcomes.set('accepted', (outcomes.get('accepted') ?? 0) + 1);
    } catch (e) {
      if (!(e instanceof MlsValidationError)) t.fail(`untyped error for mutation ${i}: ${String(e)}`);
      else outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
    }
  }
  t.deepEqual(g.view.snapshot(), before);
  t.log(JSON.stringify(Object.fromEntries(outcomes)));
  t.true((outcomes.get(MlsErrorCode.InvalidSignature) ?? 0) > 0);
  t.true((outcomes.get(MlsErrorCode.Malformed) ?? 0) > 0);
  await g.apply(c);
  t.deepEqual(g.divergences(), []);
});

/** external_senders as RFC 9420 §12.1.8.1 encodes it: ExternalSender external_senders<V>. */
function externalSenders(senders: { signatureKey: Uint8Array; name: string }[]): Uint8Array {
  const list = new Writer();
  for (const s of senders) list.vec(s.signatureKey).raw(encodeCredential({ credentialType: 'basic', identity: new TextEncoder().encode(s.name) }));
  return new Writer().vec(list.finish()).finish();
}

test('external senders: proposals signed by a listed external sender are stored, others refused', async (t) => {
  const cs = await clientSuite();
  const ds = await cs.signature.keygen();
  const stranger = await cs.signature.keygen();
  const founder = await newIdentity('founder');
  const state = await createGroup(new TextEncoder().encode('ext-group'), founder.publicPackage, founder.privatePackage, [], cs);
  // ts-mls 1.6.4 refuses the RFC encoding in createGroup, so the extension is put into the context
  // handed to the view (extensions are not covered by the tree or its signatures).
  const context = {
    ...state.groupContext,
    extensions: [{ extensionType: 'external_senders' as const, extensionData: externalSenders([{ signatureKey: ds.publicKey, name: 'ds' }]) }],
  };
  const view = await PublicGroupView.fromGroupContext(encodeGroupContext(context), encodeRatchetTree(state.ratchetTree), state.confirmationTag);
  const joiner = await newIdentity('invited');
  const external = async (signKey: Uint8Array, senderIndex: number) => {
    const content: FramedContent = {
      groupId: view.groupId,
      epoch: view.epoch,
      sender: { senderType: 'external', senderIndex },
      authenticatedData: new Uint8Array(),
      contentType: 'proposal',
      proposal: { proposalType: 'add', add: { keyPackage: joiner.publicPackage } },
    };
    const signature = await signFramedContentTBS(signKey, toTbs(content, 'mls_public_message', view.groupContext), cs.signature);
    return encodeMlsMessage({
      version: 'mls10',
      wireformat: 'mls_public_message',
      publicMessage: { content, auth: { contentType: 'proposal', signature }, senderType: 'external' },
    });
  };
  const ok = await view.process(await external(ds.signKey, 0));
  t.is(ok.kind, 'proposal');
  t.is(ok.view.pendingProposals().length, 1);
  const forged = await t.throwsAsync<MlsValidationError>(view.process(await external(stranger.signKey, 0)));
  t.is(forged?.code, MlsErrorCode.InvalidSignature);
  const unknown = await t.throwsAsync<MlsValidationError>(view.process(await external(ds.signKey, 1)));
  t.is(unknown?.code, MlsErrorCode.UnknownSender);
});

test('KeyPackage lifetimes are enforced when the caller gives the time', async (t) => {
  const g = await TestGroup.create(2);
  const cs = await clientSuite();
  const expired = await generateKeyPackage(
    { credentialType: 'basic', identity: new TextEncoder().encode('old') },
    defaultCapabilities(),
    { notBefore: 0n, notAfter: 1000n },
    [],
    cs,
  );
  const proposal = wire((await createProposal(g.state('m1'), true, { proposalType: 'add', add: { keyPackage: expired.publicPackage } }, cs)).message);
  const now = BigInt(Math.floor(Date.now() / 1000));
  const err = await t.throwsAsync<MlsValidationError>(g.view.process(proposal, { now }));
  t.is(err?.code, MlsErrorCode.InvalidKeyPackage);
  t.is((await g.view.process(proposal, { now: 500n })).kind, 'proposal');
});
