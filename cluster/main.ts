// `npm start`: runs one homeserver node with the production modules until SIGTERM or SIGINT.
import { runNodeProcess } from './process.js';
import { productionModules } from './modules.js';

await runNodeProcess(productionModules);
