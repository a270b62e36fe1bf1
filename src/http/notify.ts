/**
 * The push API for backends: `POST /api/notify` and `POST /api/notify/batch`, authorised by a
 * server API key (never a user token). A notification is published through the broker exactly as
 * the matching `user`/`channel`/`client` frame would be (so it crosses nodes when the broker does);
 * `delivered` counts the connections on this node that it targeted when it was published.
 */
import type { Broker, TargetKind } from '../broker/broker.js';
import { HubError, toIssues, type Issue } from '../errors.js';
import { refuseApiRequest, type ApiKeys } from './api-keys.js';
import { batchBody, planNotification, type Planned } from './notify-schema.js';
import type { MaybePromise } from '../maybe.js';
import { errorResponse, parseJsonBody, type RestRequest, type RestResponse } from './request.js';

export interface NotifyDeps {
  readonly keys: ApiKeys;
  /** `publishChannels` when channels keep history: it returns each history channel's offset. */
  readonly broker: Pick<Broker, 'publish'> & { publishChannels?(ids: readonly string[], frame: string): MaybePromise<Record<string, number>> };
  /** Connections on this node a delivery would reach now (Hub.reach). */
  reach(kind: TargetKind, ids: readonly string[]): number;
}

type Delivered = Partial<Record<TargetKind, number>>;
type Sent = { delivered: Delivered; offsets?: Record<string, number> };

export function createNotifyRoutes(deps: NotifyDeps) {
  /** The shared checks: 404 when the API is off, 401 without a key, then the JSON body. */
  const admit = (req: RestRequest): { ok: true; body: unknown } | { ok: false; response: RestResponse } => {
    const refused = refuseApiRequest(deps.keys, req);
    if (refused !== null) return { ok: false, response: refused };
    const body = parseJsonBody(req);
    return body.ok ? { ok: true, body: body.value } : { ok: false, response: errorResponse(body.error) };
  };

  /**
   * Publishes; `offsets`: the offset each channel that keeps history gave the notification. With
   * history kept in Redis the answer waits for those offsets (and a failure to keep one rejects).
   */
  const send = (plan: Planned): MaybePromise<Sent> => {
    const delivered: Delivered = {};
    let offsets: MaybePromise<Record<string, number>> | undefined;
    for (const { kind, ids } of plan.deliveries) {
      // Counted before publishing: with the in-process broker the frame is sent within publish.
      delivered[kind] = (delivered[kind] ?? 0) + deps.reach(kind, ids);
      if (kind === 'channels' && deps.broker.publishChannels !== undefined) offsets = deps.broker.publishChannels(ids, plan.frame);
      else deps.broker.publish({ kind, ids, frame: plan.frame });
    }
    const done = (got: Record<string, number> | undefined): Sent => (got === undefined || Object.keys(got).length === 0 ? { delivered } : { delivered, offsets: got });
    return offsets instanceof Promise ? offsets.then(done) : done(offsets);
  };

  /** A publication history could not take is the caller's 503; anything else is a bug. */
  const failed = (err: unknown): RestResponse => {
    if (err instanceof HubError) return errorResponse(err);
    throw err;
  };

  const invalid = (issues: Issue[]) => errorResponse(new HubError('invalid_input', 'Invalid notification', { issues }));

  return {
    notify(req: RestRequest): MaybePromise<RestResponse> {
      const admitted = admit(req);
      if (!admitted.ok) return admitted.response;
      const planned = planNotification(admitted.body);
      if (!planned.ok) return invalid(toIssues(planned.issues));
      const sent = send(planned.plan);
      const respond = (result: Sent): RestResponse => ({ status: 202, body: { status: 202, ...result } });
      return sent instanceof Promise ? sent.then(respond, failed) : respond(sent);
    },

    /** Every notification is validated before any is sent (one 422 lists them all); then sent in order. */
    batch(req: RestRequest): MaybePromise<RestResponse> {
      const admitted = admit(req);
      if (!admitted.ok) return admitted.response;
      const body = batchBody.safeParse(admitted.body);
      if (!body.success) return invalid(toIssues(body.error.issues));
      const plans: Planned[] = [];
      const issues: Issue[] = [];
      body.data.notifications.forEach((item, i) => {
        const planned = planNotification(item);
        if (planned.ok) plans.push(planned.plan);
        else issues.push(...toIssues(planned.issues.map((issue) => ({ ...issue, path: ['notifications', i, ...issue.path] }))));
      });
      if (issues.length > 0) return invalid(issues);
      // Sent in order; with history in Redis each waits for the one before, so their offsets keep that order too.
      const results: Sent[] = [];
      const respond = (): RestResponse => ({ status: 202, body: { status: 202, results } });
      for (let i = 0; i < plans.length; i++) {
        const sent = send(plans[i] as Planned);
        if (!(sent instanceof Promise)) {
          results.push(sent);
          continue;
        }
        const rest = plans.slice(i + 1);
        return sent
          .then(async (first) => {
            results.push(first);
            for (const plan of rest) results.push(await send(plan));
            return respond();
          })
          .catch(failed);
      }
      return respond();
    },
  };
}
