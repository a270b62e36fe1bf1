/** The public API for walker authors and embedders. */
export { z } from 'zod';
export { defineWalker, walkerError } from './walkers/define.js';
export type { WalkerContext, WalkerDefinition, WalkerMethod, WalkerSpec, WalkerUser } from './walkers/define.js';
export { createHub, type CreateHubOptions, type RunningHub } from './node.js';
export { loadConfig, parseConfig, ConfigError, type Config } from './config.js';
export { loadWalkers, WalkerLoadError } from './walkers/loader.js';
export { defineCollection } from './collections/define.js';
export type { AccessLevel, CollectionDefinition, CollectionSpec, ItemAction } from './collections/define.js';
export { loadCollections, collectionsFrom, CollectionLoadError } from './collections/loader.js';
export { PUBLIC_ROOT_ID } from './auth/identity.js';
export { HubError, errorCatalogue, type ErrorCode } from './errors.js';

// For CommonJS walkers: require('walker-hub') (require.cjs at the package root) hands them this
// very module's exports, the running hub's own defineWalker and zod. Node 20 cannot require an ES
// module, so the hub registers its API where the CommonJS side can find it.
import * as api from './index.js';
(globalThis as Record<symbol, unknown>)[Symbol.for('walker-hub.api')] ??= api;
