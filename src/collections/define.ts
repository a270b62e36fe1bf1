/**
 * The collection module contract: `export default defineCollection({ name?, schema, access })`,
 * one module per collection in the collections folder (like walkers).
 */
import type { z } from 'zod';

/**
 * Who may do an action: anyone (`public`), any authenticated user (`authenticated`), only the root
 * that created the item (`owner`; for `create`, any authenticated user, who becomes the owner), or
 * nobody over the WebSocket and public REST (`none`: walkers and backends with an API key only).
 */
export const accessLevels = ['public', 'authenticated', 'owner', 'none'] as const;
export type AccessLevel = (typeof accessLevels)[number];
export const itemActions = ['read', 'create', 'update', 'delete'] as const;
export type ItemAction = (typeof itemActions)[number];
export type CollectionAccess = Readonly<Record<ItemAction, AccessLevel>>;

/** A zod object schema: its top-level keys are the collection's fields. */
export type CollectionSchema = z.ZodObject;

export interface CollectionSpec<S extends CollectionSchema = CollectionSchema> {
  /** Defaults to the module's file name without extension. */
  name?: string;
  /** Validated on create and on update (the item after the change), as walker input is. */
  schema: S;
  /** Each action's level; an action left out is `none`. */
  access: Partial<CollectionAccess>;
  /**
   * Names of the hub-kept time fields (ISO 8601 strings, microseconds): `created_at` and
   * `updated_at` unless renamed, e.g. `{ created: 'date_created', updated: 'date_updated' }` as Directus names them.
   */
  timestamps?: { created?: string; updated?: string };
  /** Fields the MongoDB store indexes (for filters and sorts on them); the time fields and owner always are. */
  indexes?: readonly string[];
  description?: string;
}

const brand: unique symbol = Symbol.for('walker-hub.collection');

export interface CollectionDefinition<S extends CollectionSchema = CollectionSchema> extends CollectionSpec<S> {
  readonly [brand]: true;
}

export function defineCollection<S extends CollectionSchema>(spec: CollectionSpec<S>): CollectionDefinition<S> {
  return Object.freeze({ ...spec, [brand]: true as const });
}

export function isCollectionDefinition(value: unknown): value is CollectionDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
