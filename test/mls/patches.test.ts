// One test per patch in patches/ts-mls+1.6.4.patch. Each scenario fails on unpatched ts-mls 1.6.4.
import test from 'ava';
import { hashFunction } from '../../protocol/mls/hash.js';
import { PublicTree } from '../../protocol/mls/tree.js';
import { TestGroup } from './helpers/clients.js';

test('patch validateRatchetTree: joiners accept a tree whose unmerged_leaves differ along a path (RFC 9420 §7.9)', async (t) => {
  const g = await TestGroup.create(8);
  await g.apply(await g.prepareCommit('m0', { removes: ['m1', 'm5'] }));
  // Add-only commit, no path: the new leaves 1 and 5 become unmerged at nodes 3 and 7.
  const adding = await g.prepareCommit('m0', { adds: 2 });
  const r = await g.apply(adding);
  t.deepEqual(
    r.added.map((a) => a.leafIndex),
    [1, 5],
  );
  const tree = PublicTree.decode(hashFunction('SHA-256'), g.view.ratchetTree());
  t.deepEqual(tree.node(3)!.parent.unmergedLeaves, [1]);
  t.deepEqual(tree.node(7)!.parent.unmergedLeaves, [1, 5]);
  // Both joiners ran validateRatchetTree on this tree inside joinGroup; an external joiner does too.
  t.true(g.names().includes(adding.joiners[0]!.name) && g.names().includes(adding.joiners[1]!.name));
  await g.applyExternal(await g.prepareExternalJoin());
  t.deepEqual(g.divergences(), []);
});

test('patch createCommit: a GroupContextExtensions commit has a path the other members can decrypt', async (t) => {
  const g = await TestGroup.create(4);
  const extensions = [{ extensionType: 'application_id' as const, extensionData: new Uint8Array([7]) }];
  const prepared = await g.prepareCommit('m1', { extra: [{ proposalType: 'group_context_extensions', groupContextExtensions: { extensions } }] });
  const { decodeMlsMessage } = await import('ts-mls/message.js');
  const m = decodeMlsMessage(prepared.commit, 0)![0];
  t.true(m.wireformat === 'mls_public_message' && m.publicMessage.content.contentType === 'commit' && m.publicMessage.content.commit.path !== undefined);
  await g.apply(prepared);
  t.deepEqual(g.divergences(), []);
});
