// A node whose start fails half-way (here: a module refusing its settings) closes what it opened.
import test from 'ava';
import { SettingsError } from '../../actors/runtime/settings.js';
import { counterModule } from '../fixtures/counter-module.js';
import { createTestEnvironment, startTestNode } from '../helpers/node.js';

const openSockets = (): number => process.getActiveResourcesInfo().filter((name) => name.startsWith('TCP')).length;

test('a start that fails in a module factory leaves no connection open and reports the problem', async (t) => {
  const environment = await createTestEnvironment('nats-postgres');
  try {
    const before = openSockets();
    const refusing = () => { throw new SettingsError(['EXAMPLE_SETTING must be set'], 'example configuration'); };
    const error = await t.throwsAsync(startTestNode(environment, [counterModule, refusing]), { instanceOf: SettingsError });
    t.regex(error!.message, /EXAMPLE_SETTING must be set/);
    // Closed sockets leave the list on the next turns of the event loop.
    for (let i = 0; i < 100 && openSockets() > before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    t.is(openSockets(), before);
    // The same environment still starts cleanly afterwards.
    const { node } = await startTestNode(environment, [counterModule]);
    t.true(openSockets() > before);
    await node.stop();
  } finally {
    await environment.cleanup();
  }
});
