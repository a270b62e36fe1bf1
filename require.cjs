/**
 * `require('walker-hub')` for CommonJS walkers (`.cjs`, or require/module.exports), through the
 * package's "require" export condition: in a checkout (the package referring to itself) and
 * wherever walker-hub is installed.
 *
 * Node 20 cannot require the hub's ES modules, and a second copy of them would not do anyway: a
 * walker must get the running hub's own `defineWalker` and zod. So this hands over the API the
 * running hub registered (src/index.ts, loaded by the command before any walker). Outside a
 * running hub there is nothing to hand over, and it says so.
 */
'use strict';
const api = globalThis[Symbol.for('walker-hub.api')];
if (api === undefined) {
  throw new Error(
    "require('walker-hub') works inside a running walker hub only (it hands a CommonJS walker the hub's own API); " +
      "outside one, import { defineWalker, z } from 'walker-hub' as an ES module",
  );
}
module.exports = api;
