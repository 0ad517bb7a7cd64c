// Preloaded with `--import` (through NODE_OPTIONS): appends every module the process loads to the
// file named by HOTSLOT_MODULE_LOG, one URL or path a line. ES modules are logged as they resolve
// (by the hooks in module-recorder-hooks.mjs, which run on the loader's own thread); CommonJS ones
// from the require cache when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.HOTSLOT_MODULE_LOG;
if (log) {
  register('./module-recorder-hooks.mjs', import.meta.url, { data: { log } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(log, Object.keys(cache).join('\n') + '\n'));
}
