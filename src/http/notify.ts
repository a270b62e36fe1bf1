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
import { errorResponse, parseJsonBody, type RestRequest, type RestResponse } from './request.js';

export interface NotifyDeps {
  readonly keys: ApiKeys;
  /** `publishChannels` when channels keep history: it returns each history channel's offset. */
  readonly broker: Pick<Broker, 'publish'> & { publishChannels?(ids: readonly string[], frame: string): Record<string, number> };
  /** Connections on this node a delivery would reach now (Hub.reach). */
  reach(kind: TargetKind, ids: readonly string[]): number;
}

type Delivered = Partial<Record<TargetKind, number>>;

export function createNotifyRoutes(deps: NotifyDeps) {
  /** The shared checks: 404 when the API is off, 401 without a key, then the JSON body. */
  const admit = (req: RestRequest): { ok: true; body: unknown } | { ok: false; response: RestResponse } => {
    const refused = refuseApiRequest(deps.keys, req);
    if (refused !== null) return { ok: false, response: refused };
    const body = parseJsonBody(req);
    return body.ok ? { ok: true, body: body.value } : { ok: false, response: errorResponse(body.error) };
  };

  /** Publishes; `offsets`: the offset each channel that keeps history gave the notification. */
  const send = (plan: Planned): { delivered: Delivered; offsets?: Record<string, number> } => {
    const delivered: Delivered = {};
    let offsets: Record<string, number> | undefined;
    for (const { kind, ids } of plan.deliveries) {
      // Counted before publishing: with the in-process broker the frame is sent within publish.
      delivered[kind] = (delivered[kind] ?? 0) + deps.reach(kind, ids);
      if (kind === 'channels' && deps.broker.publishChannels !== undefined) {
        const got = deps.broker.publishChannels(ids, plan.frame);
        if (Object.keys(got).length > 0) offsets = got;
      } else deps.broker.publish({ kind, ids, frame: plan.frame });
    }
    return offsets === undefined ? { delivered } : { delivered, offsets };
  };

  const invalid = (issues: Issue[]) => errorResponse(new HubError('invalid_input', 'Invalid notification', { issues }));

  return {
    notify(req: RestRequest): RestResponse {
      const admitted = admit(req);
      if (!admitted.ok) return admitted.response;
      const planned = planNotification(admitted.body);
      if (!planned.ok) return invalid(toIssues(planned.issues));
      return { status: 202, body: { status: 202, ...send(planned.plan) } };
    },

    /** Every notification is validated before any is sent (one 422 lists them all); then sent in order. */
    batch(req: RestRequest): RestResponse {
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
      const results = plans.map((plan) => send(plan));
      return { status: 202, body: { status: 202, results } };
    },
  };
}
