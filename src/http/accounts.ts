/**
 * User accounts over REST, socket-free: register, login, logout (one token or all of a user's).
 * Tokens come from auth/tokens.ts.
 */
import { randomBytes } from 'node:crypto';
import { nanoid } from 'nanoid';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.js';
import { bearerToken, type Identity } from '../auth/identity.js';
import { HubError, toIssues } from '../errors.js';
import type { Logger } from '../log.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { createTokenIssuer } from '../auth/tokens.js';
import { errorResponse, parseJsonBody, type RestRequest, type RestResponse } from './request.js';
import { REVOKED_FOREVER, type Revocations } from '../auth/revocations.js';
import { memoryThrottle, type Throttle, type ThrottleBudget, type ThrottleFactory } from './throttle.js';
import { DuplicateUserError, StoreUnavailableError, type Store, type UserRecord } from '../store/store.js';

export interface AccountOptions {
  /** Token lifetime, seconds. */
  readonly tokenTtlSec: number;
  /** scrypt cost as log2(N). */
  readonly passwordHashCost: number;
  /** The configured `aud` (--jwt-audience), put into issued tokens. */
  readonly audience?: string | undefined;
  /** Login + register attempts (shared budget) per client IP and per email; off when absent. */
  readonly rateLimits?: { readonly perIp: ThrottleBudget; readonly perAccount: ThrottleBudget };
}

export interface AccountDeps {
  readonly store: Store;
  readonly revocations: Revocations;
  readonly authenticator: Authenticator;
  readonly secret: string;
  readonly options: AccountOptions;
  readonly log: Logger;
  /** Where attempt budgets are kept (memory by default; shared across nodes later). */
  readonly throttle?: ThrottleFactory;
}

const credentials = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email('must be a valid email address').max(254)),
  password: z.string().min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters'),
});

export const publicUser = (u: UserRecord) => ({ id: u.id, email: u.email, root_id: u.root_id });

export function createAccountRoutes(deps: AccountDeps) {
  const { store, revocations, options, log } = deps;
  // Verified against when the email is unknown, so both failures take the same time.
  const decoy = hashPassword(randomBytes(16).toString('hex'), options.passwordHashCost);
  const issueToken = createTokenIssuer(deps.secret, options.tokenTtlSec, options.audience);
  const makeThrottle = deps.throttle ?? memoryThrottle;
  const off: ThrottleBudget = { points: 0, durationSec: 1 };
  const perIp = makeThrottle('auth-ip', options.rateLimits?.perIp ?? off);
  const perAccount = makeThrottle('auth-account', options.rateLimits?.perAccount ?? off);

  /** A 429 with Retry-After when `key` is over its budget, else null. */
  const spend = async (throttle: Throttle, key: string): Promise<RestResponse | null> => {
    const result = await throttle.consume(key);
    if (result.ok) return null;
    const err = new HubError('rate_limited', `Too many attempts; retry in ${result.retryAfterSec} s`);
    return errorResponse(err, { 'Retry-After': String(result.retryAfterSec) });
  };

  const readCredentials = (req: RestRequest) => {
    const body = parseJsonBody(req);
    if (!body.ok) return { error: errorResponse(body.error) } as const;
    const parsed = credentials.safeParse(body.value);
    if (!parsed.success) return { error: errorResponse(new HubError('invalid_input', 'Invalid email or password format', { issues: toIssues(parsed.error.issues) })) } as const;
    return { value: parsed.data } as const;
  };

  /** Runs a handler, turning store outages into 503 and anything unexpected into a logged 500. */
  const guarded =
    (name: string, handler: (req: RestRequest) => Promise<RestResponse>) =>
    async (req: RestRequest): Promise<RestResponse> => {
      try {
        return await handler(req);
      } catch (err) {
        if (err instanceof HubError) return errorResponse(err);
        if (err instanceof StoreUnavailableError) {
          (req.log ?? log).warn(`${name}: store unavailable`, { error: err.message });
          return errorResponse(new HubError('store_unavailable'));
        }
        const errorId = nanoid(12);
        (req.log ?? log).error(`${name} failed`, { error_id: errorId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        return errorResponse(new HubError('internal', undefined, { errorId }));
      }
    };

  const authenticated = (req: RestRequest): Identity => {
    const token = bearerToken(req.authorization);
    if (token === null) throw new HubError('unauthorized', 'A Bearer token is required');
    const identity = deps.authenticator.verify(token);
    if (identity.tokenId === null) throw new HubError('invalid_token', 'Token has no id (jti) and cannot be revoked');
    return identity;
  };

  return {
    // Budgets are spent before scrypt runs, so a flood is refused without using CPU or the libuv
    // pool: the IP first (before even parsing), the account once the email is known.
    register: guarded('register', async (req) => {
      const ipRefused = await spend(perIp, req.ip);
      if (ipRefused) return ipRefused;
      const creds = readCredentials(req);
      if (creds.error) return creds.error;
      const accountRefused = await spend(perAccount, creds.value.email);
      if (accountRefused) return accountRefused;
      const user: UserRecord = {
        id: nanoid(),
        email: creds.value.email,
        root_id: `n::${randomBytes(12).toString('hex')}`,
        password_hash: await hashPassword(creds.value.password, options.passwordHashCost),
        created_at: Date.now(),
      };
      try {
        await store.createUser(user);
      } catch (err) {
        if (err instanceof DuplicateUserError && err.field === 'email') return errorResponse(new HubError('email_taken'));
        throw err;
      }
      log.info('user registered', { user_id: user.id });
      return { status: 201, body: { status: 201, user: publicUser(user) } };
    }),

    login: guarded('login', async (req) => {
      const ipRefused = await spend(perIp, req.ip);
      if (ipRefused) return ipRefused;
      const creds = readCredentials(req);
      // A malformed body is still a 4xx, but never says whether the account exists.
      if (creds.error) return creds.error.status === 422 ? errorResponse(new HubError('invalid_credentials')) : creds.error;
      // Unknown emails are throttled the same as known ones, so the 429 says nothing about existence.
      const accountRefused = await spend(perAccount, creds.value.email);
      if (accountRefused) return accountRefused;
      const user = await store.findUserByEmail(creds.value.email);
      const ok = await verifyPassword(creds.value.password, user?.password_hash ?? (await decoy));
      if (!user || !ok) return errorResponse(new HubError('invalid_credentials'));
      await perAccount.reset(creds.value.email);
      return { status: 200, body: { status: 200, token: await issueToken(user), user: publicUser(user) } };
    }),

    logout: guarded('logout', async (req) => {
      const identity = authenticated(req);
      const all = new URLSearchParams(req.query).get('all') === 'true';
      const userId = identity.user_id as string;
      if (all) {
        await revocations.revokeUser({ user_id: userId, before: Date.now(), revoked_at: Date.now() });
      } else {
        // A token without exp never expires, so neither may its revocation.
        const expiresAt = identity.expiresAt ?? REVOKED_FOREVER;
        await revocations.revokeToken({ jti: identity.tokenId as string, user_id: userId, expires_at: expiresAt, revoked_at: Date.now() });
      }
      return { status: 200, body: { status: 200, revoked: all ? 'all' : 'token' } };
    }),
  };
}
