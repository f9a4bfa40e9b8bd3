// Interoperability with OpenMLS (openmls-wasm, ciphersuite 3): every message it produces decodes
// through the view's adapter and re-encodes byte for byte, so the DS can relay it unchanged.
import test from 'ava';
import { codec } from '../../protocol/mls/tsmls.js';
import { openmls } from './helpers/openmls.js';

const roundTrip = (b: Uint8Array) => codec.encodeMessage(codec.decodeMessage(b));

test('OpenMLS proposal, commit, Welcome and application messages re-encode byte for byte', (t) => {
  const mls = openmls();
  const provider = new mls.Provider();
  const alice = new mls.Identity(provider, 'alice');
  const bob = new mls.Identity(provider, 'bob');
  const group = mls.Group.create_new(provider, alice, 'interop-group');
  const add = group.propose_and_commit_add(provider, alice, bob.key_package(provider));
  group.merge_pending_commit(provider);
  const bobGroup = mls.Group.join(provider, add.welcome, group.export_ratchet_tree());
  const app = group.create_message(provider, alice, new TextEncoder().encode('hello from OpenMLS'));
  t.deepEqual(new TextDecoder().decode(bobGroup.process_message(provider, app)), 'hello from OpenMLS');

  const seen: Record<string, string> = {};
  for (const [name, bytes] of Object.entries({ proposal: add.proposal, commit: add.commit, welcome: add.welcome, application: app })) {
    const m = codec.decodeMessage(bytes);
    seen[name] = m.wireformat;
    t.deepEqual(roundTrip(bytes), bytes, name);
  }
  t.is(seen.welcome, 'mls_welcome');
  t.is(seen.application, 'mls_private_message');
  const welcome = codec.decodeMessage(add.welcome);
  t.true(welcome.wireformat === 'mls_welcome' && welcome.welcome.cipherSuite === 'MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519');
  // Bob answers; his message decodes too.
  const reply = bobGroup.create_message(provider, bob, new TextEncoder().encode('hi'));
  t.deepEqual(roundTrip(reply), reply);
});
