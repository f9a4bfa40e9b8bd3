// Real ts-mls clients drive the public view through every kind of handshake; after each step the
// view's GroupContext and ratchet tree must equal every member's.
import test from 'ava';
import { MlsErrorCode, MlsValidationError, PublicGroupView } from '../../protocol/mls/index.js';
import { TestGroup } from './helpers/clients.js';

test('adds with Welcome, removes, empty commits and application messages', async (t) => {
  const g = await TestGroup.create(4);
  t.deepEqual(g.divergences(), []);
  t.is(g.view.members().length, 4);
  const added = await g.apply(await g.prepareCommit('m1', { adds: 2 }));
  t.is(added.added.length, 2);
  t.deepEqual(g.divergences(), []);
  const removed = await g.apply(await g.prepareCommit('m2', { removes: ['m0', 'm3'] }));
  t.deepEqual(removed.removed.sort(), [0, 3]);
  t.deepEqual(g.divergences(), []);
  await g.apply(await g.prepareCommit('m4'));
  t.deepEqual(g.divergences(), []);
  t.is(g.view.members().length, 4);
  const app = await g.applicationMessage('m1', 'hello');
  t.is(g.view.checkPrivateMessage(app).contentType, 'application');
  t.is((await g.view.process(app)).kind, 'application');
  t.truthy(g.view.groupInfo());
});

test('proposals by reference: add, remove and update committed by another member', async (t) => {
  const g = await TestGroup.create(3);
  const { newIdentity } = await import('./helpers/clients.js');
  const joiner = await newIdentity('late');
  await g.propose('m0', { proposalType: 'add', add: { keyPackage: joiner.publicPackage } });
  await g.propose('m1', { proposalType: 'remove', remove: { removed: g.leafOf('m2') } });
  await g.propose('m1', await g.updateProposal('m1'));
  t.is(g.view.pendingProposals().length, 3);
  // The proposal store survives a snapshot: the reloaded view resolves the references.
  const snapshot = g.view.snapshot();
  g.view = await PublicGroupView.loadSnapshot(snapshot);
  t.deepEqual(g.view.snapshot(), snapshot);
  t.is(g.view.pendingProposals().length, 3);
  const prepared = await g.prepareCommit('m0');
  prepared.joiners.push(joiner);
  const r = await g.apply(prepared);
  t.deepEqual(r.updated, [g.leafOf('m1')]);
  t.deepEqual(r.removed, [2]);
  t.is(r.added.length, 1);
  t.is(g.view.pendingProposals().length, 0);
  t.deepEqual(g.divergences(), []);
  await g.apply(await g.prepareCommit('m1'));
  t.deepEqual(g.divergences(), []);
});

test('external commits: a new client joins, an existing member resyncs', async (t) => {
  const g = await TestGroup.create(3);
  const join = await g.applyExternal(await g.prepareExternalJoin());
  t.true(join.external);
  t.deepEqual(g.divergences(), []);
  t.is(g.view.members().length, 4);
  const resync = await g.applyExternal(await g.prepareExternalJoin('m1'));
  t.true(resync.external);
  t.deepEqual(resync.removed, [1]);
  t.deepEqual(g.divergences(), []);
  t.is(g.view.members().length, 4);
  await g.apply(await g.prepareCommit('m1'));
  t.deepEqual(g.divergences(), []);
});

test('GroupContextExtensions commit with an update path (needs the ts-mls patch)', async (t) => {
  const g = await TestGroup.create(3);
  const extensions = [{ extensionType: 'application_id' as const, extensionData: new Uint8Array([1, 2, 3]) }];
  const r = await g.apply(await g.prepareCommit('m2', { extra: [{ proposalType: 'group_context_extensions', groupContextExtensions: { extensions } }] }));
  t.true(r.groupContextExtensions);
  t.deepEqual(g.view.groupContext.extensions.map((e) => e.extensionType), ['application_id']);
  t.deepEqual(g.divergences(), []);
  await g.apply(await g.prepareCommit('m0'));
  t.deepEqual(g.divergences(), []);
});

test('a committed ReInit freezes the group, also across a snapshot', async (t) => {
  const g = await TestGroup.create(3);
  const before = await g.prepareCommit('m2');
  const reinit = { groupId: new TextEncoder().encode('successor'), version: 'mls10' as const, cipherSuite: g.view.groupContext.cipherSuite, extensions: [] };
  const r = await g.apply(await g.prepareCommit('m1', { extra: [{ proposalType: 'reinit', reinit }] }));
  t.true(r.reinit);
  t.deepEqual(g.divergences(), []);
  const frozen = await PublicGroupView.loadSnapshot(g.view.snapshot());
  t.true(frozen.reinitialized);
  // A commit built before the ReInit would be a stale epoch anyway; the freeze is reported first.
  const late = await t.throwsAsync<MlsValidationError>(frozen.process(before.commit));
  t.is(late?.code, MlsErrorCode.GroupReinitialized);
});
