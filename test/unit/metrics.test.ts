/** The metric primitives read back through prom-client's own text format. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.js';

const sources = { connections: () => ({ authenticated: 2, public: 3 }), brokerState: () => 'down' as const, pingStore: () => Promise.resolve(), ready: () => false };

const lines = async (render: () => Promise<string>, prefix: string) => (await render()).split('\n').filter((l) => l.startsWith(prefix));

describe('metrics registry', () => {
  it('reports cumulative histogram buckets, sum and count per label set', async () => {
    const { metrics, render } = createMetrics(sources);
    const post = metrics.walkerMeter('w', 'post');
    post(200, 0.003);
    post(500, 50);
    metrics.walkerMeter('w', 'websocket')(200, 0.0001);
    // A second meter of the same walker and method adds to the same series.
    metrics.walkerMeter('w', 'websocket')(200, 0.0002);
    const seconds = await lines(render, 'walker_hub_walker_duration_seconds');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_bucket{le="0.001",walker="w",via="post"} 0');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_bucket{le="0.005",walker="w",via="post"} 1');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_bucket{le="30",walker="w",via="post"} 1');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_bucket{le="+Inf",walker="w",via="post"} 2');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_sum{walker="w",via="post"} 50.003');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_count{walker="w",via="post"} 2');
    expect(seconds).toContain('walker_hub_walker_duration_seconds_bucket{le="0.0005",walker="w",via="websocket"} 2');
    expect(await lines(render, 'walker_hub_walker_calls_total')).toEqual([
      'walker_hub_walker_calls_total{walker="w",via="post",status="200"} 1',
      'walker_hub_walker_calls_total{walker="w",via="post",status="500"} 1',
      'walker_hub_walker_calls_total{walker="w",via="websocket",status="200"} 2',
    ]);
  });

  it('adds counts per label set, and reads gauges from their sources at scrape', async () => {
    const { metrics, render } = createMetrics(sources);
    metrics.delivered('channels', 1000);
    metrics.delivered('channels', 24);
    metrics.delivered('broadcast', 5);
    metrics.httpResponse('/api/notify', 202);
    metrics.httpResponse('/api/notify', 202);
    metrics.httpResponse('/api/notify', 401);
    expect(await lines(render, 'walker_hub_deliveries_total')).toEqual(['walker_hub_deliveries_total{kind="channels"} 1024', 'walker_hub_deliveries_total{kind="broadcast"} 5']);
    expect(await lines(render, 'walker_hub_http_responses_total')).toEqual([
      'walker_hub_http_responses_total{route="/api/notify",status="202"} 2',
      'walker_hub_http_responses_total{route="/api/notify",status="401"} 1',
    ]);
    // A second scrape reports the same totals (the counters are rebuilt, not added to again).
    expect(await lines(render, 'walker_hub_deliveries_total')).toEqual(['walker_hub_deliveries_total{kind="channels"} 1024', 'walker_hub_deliveries_total{kind="broadcast"} 5']);
    expect(await lines(render, 'walker_hub_connections')).toEqual(['walker_hub_connections{auth="authenticated"} 2', 'walker_hub_connections{auth="public"} 3']);
    expect(await lines(render, 'walker_hub_broker_up')).toEqual(['walker_hub_broker_up 0']);
    expect(await lines(render, 'walker_hub_ready')).toEqual(['walker_hub_ready 0']);
  });
});
