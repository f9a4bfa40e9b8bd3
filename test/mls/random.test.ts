// Random sequences of operations by real ts-mls clients. After every step the view must agree with
// every member, and the view used for the next step is reloaded from its snapshot, which must
// re-encode byte for byte.
import test from 'ava';
import { PublicGroupView } from '../../protocol/mls/index.js';
import { TestGroup, newIdentity, rng } from './helpers/clients.js';

const STEPS = 24;

async function randomStep(g: TestGroup, rand: () => number): Promise<string> {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names = g.names();
  const committer = pick(names);
  const others = names.filter((n) => n !== committer);
  const roll = rand();
  if (roll < 0.2 || others.length === 0) {
    await g.apply(await g.prepareCommit(committer, { adds: 1 + Math.floor(rand() * 2) }));
    return 'add';
  }
  if (roll < 0.35 && names.length > 3) {
    await g.apply(await g.prepareCommit(committer, { removes: [pick(others)] }));
    return 'remove';
  }
  if (roll < 0.5) {
    await g.apply(await g.prepareCommit(committer));
    return 'empty commit';
  }
  if (roll < 0.7) {
    // By reference: a proposer other than the committer proposes, the committer commits.
    const proposer = pick(others);
    let kind = pick(['add', 'remove', 'update'] as const);
    if (kind === 'remove' && names.length <= 3) kind = 'update';
    const prepared = { joiners: [] as Awaited<ReturnType<typeof newIdentity>>[] };
    if (kind === 'add') {
      const j = await newIdentity(`r${Math.floor(rand() * 1e9)}`);
      prepared.joiners.push(j);
      await g.propose(proposer, { proposalType: 'add', add: { keyPackage: j.publicPackage } });
    } else if (kind === 'remove') {
      const target = pick(names.filter((n) => n !== committer && n !== proposer));
      await g.propose(proposer, { proposalType: 'remove', remove: { removed: g.leafOf(target) } });
    } else {
      await g.propose(proposer, await g.updateProposal(proposer));
    }
    const c = await g.prepareCommit(committer);
    c.joiners.push(...prepared.joiners);
    await g.apply(c);
    return `${kind} by reference`;
  }
  if (roll < 0.8) {
    await g.applyExternal(await g.prepareExternalJoin());
    return 'external join';
  }
  if (roll < 0.9) {
    await g.applyExternal(await g.prepareExternalJoin(committer));
    return 'external resync';
  }
  if (roll < 0.95) {
    const extensionData = new Uint8Array([Math.floor(rand() * 256)]);
    const gce = { extensions: [{ extensionType: 'application_id' as const, extensionData }] };
    await g.apply(await g.prepareCommit(committer, { extra: [{ proposalType: 'group_context_extensions', groupContextExtensions: gce }] }));
    return 'group context extensions';
  }
  const app = await g.applicationMessage(committer, 'hi');
  g.view.checkPrivateMessage(app);
  return 'application message';
}

for (const seed of [1, 2, 3]) {
  test(`random operations, seed ${seed}`, async (t) => {
    const rand = rng(seed);
    const g = await TestGroup.create(3, `random-${seed}`);
    const seen = new Set<string>();
    for (let step = 0; step < STEPS; step++) {
      const op = await randomStep(g, rand);
      seen.add(op);
      t.deepEqual(g.divergences(), [], `step ${step} (${op})`);
      const snap = g.view.snapshot();
      const loaded = await PublicGroupView.loadSnapshot(snap);
      t.deepEqual(loaded.snapshot(), snap, `step ${step}: snapshot round trip`);
      g.view = loaded;
    }
    t.log(`epoch ${g.view.epoch}, ${g.view.members().length} members, ops: ${[...seen].join(', ')}`);
  });
}
