// The shape every fault drill shares: warm the gateways, open the subscribers, start the mixed load, wait
// `before`, inject the fault, wait `fault`, heal it, let the load run `after` more, then stop everything and
// hand back what was recorded. A scenario file adds only its fault and the checks special to it.
import type pg from 'pg';
import { sleep } from '../../test/support/wait.ts';
import { post, scrape, sumOf } from './http.ts';
import { READ_LIST, READ_PRODUCT, READ_SEATS, startLoad, type Load, type Sample, type SampleKind } from './load.ts';
import { committedChecks, noteInitialStock, stockChecks, subscriberChecks } from './invariants.ts';
import { percentile } from './stats.ts';
import { readTimeoutMs, zero, type Check, type ScenarioRun } from './scenario.ts';
import type { DrillGateway } from './stack.ts';
import { settleSubscribers, watchSeats, watchStock, type SeatWatcher, type StockWatcher } from './subscribers.ts';

export interface DriveOptions {
  gateways: DrillGateway[];
  /** The gateways the load and reconnecting subscribers are sent to (default: all of `gateways`). */
  targets?: () => DrillGateway[];
  inject(): Promise<void>;
  heal(): Promise<void>;
  /** Runs while the fault is on, after inject (e.g. polling /readyz); awaited before heal. */
  during?(): Promise<void>;
  /** Runs right after heal, while the load goes on (e.g. timing the recovery). */
  afterHeal?(): Promise<void>;
}

/** Pause between cache samples (each is one /metrics scrape per gateway). */
const CACHE_SAMPLE_MS = 250;

export interface CacheSample {
  /** ms since the load started. */
  at: number;
  hits: number;
  lookups: number;
}

export interface Drive {
  load: Load;
  seatWatchers: SeatWatcher[];
  stockWatchers: StockWatcher[];
  /** ms after the load started. */
  faultAt: number;
  healedAt: number;
  endedAt: number;
  /** Entity-cache hits (L1 or Redis) and lookups, summed over the gateways, about every CACHE_SAMPLE_MS. */
  cache: CacheSample[];
}

/** Reads every hot product, the list and the seat map on each gateway, so the caches hold them. */
export async function warm(drill: ScenarioRun, gateways: readonly DrillGateway[]): Promise<void> {
  const { fixtures } = drill.stack;
  for (const gateway of gateways) {
    await Promise.all([
      ...fixtures.hotProductIds.map((id) => post(gateway.url, READ_PRODUCT, { id: String(id) }, {}, 10_000)),
      post(gateway.url, READ_LIST, {}, {}, 10_000),
      post(gateway.url, READ_SEATS, { id: fixtures.eventId }, {}, 10_000),
    ]);
  }
}

/** One scrape per gateway, all at once, stamped with the time the answers came (what the counters say then). */
async function cacheSample(gateways: readonly DrillGateway[], since: () => number): Promise<CacheSample | undefined> {
  const name = 'cachegate_cache_lookups_total';
  try {
    const texts = await Promise.all(gateways.map((g) => scrape(g.metricsUrl)));
    let hits = 0;
    let lookups = 0;
    for (const text of texts) {
      hits += sumOf(text, name, { layer: 'l1', result: 'hit' }) + sumOf(text, name, { layer: 'redis', result: 'hit' });
      lookups += sumOf(text, name, { layer: 'l1' });
    }
    return { at: since(), hits, lookups };
  } catch {
    return undefined; // a killed gateway has no /metrics
  }
}

export async function drive(drill: ScenarioRun, options: DriveOptions): Promise<Drive> {
  const { stack, timings } = drill;
  const targets = options.targets ?? (() => options.gateways);
  await warm(drill, options.gateways);
  const seatWatchers = options.gateways.flatMap((_, k) => [
    watchSeats(`seats-${k}a`, targets, k, stack.fixtures.eventId),
    watchSeats(`seats-${k}b`, targets, k, stack.fixtures.eventId),
  ]);
  const stockWatchers = stack.fixtures.checkoutProductIds.map((id, k) => watchStock(`stock-${id}`, targets, k, id));
  await settleSubscribers();
  await noteInitialStock(await stack.sql(), stockWatchers);
  const load = startLoad({
    fixtures: stack.fixtures,
    targets,
    durationMs: timings.before + timings.fault + timings.after,
    readTimeoutMs: readTimeoutMs(drill),
  });
  const since = (): number => performance.now() - load.startedAt;
  const cache: CacheSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sample = await cacheSample(targets(), since);
      if (sample) cache.push(sample);
      await sleep(CACHE_SAMPLE_MS);
    }
  })();

  await sleep(timings.before);
  const faultAt = since();
  drill.log(`fault at ${Math.round(faultAt)} ms`);
  await options.inject();
  await Promise.all([sleep(timings.fault), options.during?.()]);
  const healedAt = since();
  await options.heal();
  drill.log(`healed at ${Math.round(healedAt)} ms`);
  await options.afterHeal?.();
  await load.done;
  const endedAt = since();
  sampling = false;
  await sampler;
  return { load, seatWatchers, stockWatchers, faultAt, healedAt, endedAt, cache };
}

/** Closes the subscribers and checks PostgreSQL and the subscribers' views (every scenario ends with these). */
export async function finish(drill: ScenarioRun, run: Drive, sql: pg.Client): Promise<Check[]> {
  const { fixtures } = drill.stack;
  const subscribers = await subscriberChecks(sql, fixtures.eventId, run.seatWatchers);
  subscribers.push(await stockChecks(sql, run.stockWatchers));
  await Promise.all([...run.seatWatchers, ...run.stockWatchers].map((w) => w.close()));
  return [...(await committedChecks(sql, fixtures, run.load)), ...subscribers];
}

export interface Window {
  samples: Sample[];
  failed: Sample[];
  /** Calls that got no answer within the client timeout. */
  hung: Sample[];
  p99: number;
  max: number;
}

/** The samples of `kind` in flight at some moment of [from, to) ms after the load started. */
export function window(
  run: Drive,
  from: number,
  to: number,
  kind: SampleKind,
  ops?: readonly string[],
  gateways?: readonly string[],
): Window {
  const samples = run.load.samples.filter(
    (s) =>
      s.kind === kind &&
      s.at < to &&
      s.at + s.ms >= from &&
      (!ops || ops.includes(s.op)) &&
      (!gateways || gateways.includes(s.gateway)),
  );
  const ms = samples.map((s) => s.ms);
  return {
    samples,
    failed: samples.filter((s) => !s.ok),
    hung: samples.filter((s) => s.code === 'TIMEOUT'),
    p99: percentile(ms, 99),
    max: Math.max(0, ...ms),
  };
}

/** "3 (product NETWORK x2, list TIMEOUT x1)" style summary of failed samples. */
export function failures(samples: readonly Sample[]): string {
  const codes = new Map<string, number>();
  for (const s of samples) {
    const key = `${s.op} ${s.code ?? 'HTTP'}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  const detail = [...codes].map(([code, n]) => `${code} x${n}`).join(', ');
  return detail ? `${samples.length} (${detail})` : String(samples.length);
}

/**
 * Hit rate (hits / lookups) over [from, to]: from the last sample at or before `from` to the last at or before
 * `to`, so a window shorter than the sampling gap still spans two samples. undefined without lookups.
 */
export function hitRate(cache: readonly CacheSample[], from: number, to: number): number | undefined {
  const first = cache.findLast((c) => c.at <= from) ?? cache[0];
  const last = cache.findLast((c) => c.at <= to);
  if (!first || !last || last.lookups === first.lookups) return undefined;
  return (last.hits - first.hits) / (last.lookups - first.lookups);
}

/** Zero failed samples in the window, with the failures (operation and code) as the figure. */
export function noFailures(name: string, w: Window): Check {
  return { ...zero(`${name} (of ${w.samples.length})`, w.failed.length), value: failures(w.failed) };
}
