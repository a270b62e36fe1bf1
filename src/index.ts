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
