/**
 * `node --import tsx bench/tools/cluster-churn.ts [--rounds=20] [--topics=3500] [path/to/broker/redis-cluster.ts]`:
 * this process's CPU (user + system, ms) per round of subscription churn on Redis Cluster
 * (REDIS_CLUSTER_NODES): each round tracks `--topics` new user topics on one broker, waits until
 * they are subscribed, untracks them and waits again. The figures should stay flat from round to
 * round; pass an older checkout's redis-cluster.ts to compare (ioredis's own sharded subscriber
 * grew with every slot ever used). Topics go under a prefix of their own, so a shared cluster is fine.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PubSubBroker } from '../../src/broker/pubsub.js';
import type { ClusterNode } from '../../src/broker/redis-cluster.js';
import { silentLogger } from '../../src/log.js';
import { arg } from '../lib/arg.js';

type Create = (nodes: readonly ClusterNode[], prefix: string, log: typeof silentLogger) => PubSubBroker;
type Parse = (list: string) => ClusterNode[];

const rounds = Number(arg('rounds', '20'));
const perRound = Number(arg('topics', '3500'));
const modulePath = resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'src/broker/redis-cluster.ts');
const list = process.env['REDIS_CLUSTER_NODES'];
if (!list) throw new Error('set REDIS_CLUSTER_NODES=host:port,...');

const { createClusterBroker, parseClusterNodes } = (await import(pathToFileURL(modulePath).href)) as { createClusterBroker: Create; parseClusterNodes: Parse };
const broker = createClusterBroker(parseClusterNodes(list), `churn${process.pid}:`, silentLogger);
await broker.start(() => 0);
await broker.settled();
const cpuMs: number[] = [];
let next = 0;
for (let round = 0; round < rounds; round++) {
  const ids = Array.from({ length: perRound }, () => `id-${next++}`);
  const before = process.cpuUsage();
  for (const id of ids) broker.track('users', id);
  await broker.settled();
  for (const id of ids) broker.untrack('users', id);
  await broker.settled();
  const used = process.cpuUsage(before);
  cpuMs.push(Math.round((used.user + used.system) / 1000));
}
await broker.close();
process.stdout.write(`${modulePath}: ${rounds} rounds of ${perRound} subscribe/unsubscribe pairs, CPU ms per round\n${cpuMs.join(' ')}\n`);
process.stdout.write(`round 1: ${cpuMs[0]} ms, round ${rounds}: ${cpuMs[rounds - 1]} ms, median of the last 5: ${median(cpuMs.slice(-5))} ms\n`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
