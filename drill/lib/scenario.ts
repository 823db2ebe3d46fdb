// What a fault drill is: one small file under drill/scenarios/ that gets a running stack (PostgreSQL,
// redis-server, gateways it asks for), puts load on it, injects one fault and returns its checks. The
// runner (drill/run.ts) and the CI test (test/drills/drills.test.ts) run the same scenarios, in a short
// form for CI and the full form of the issue's durations.
import type { DrillStack } from './stack.ts';

export interface Check {
  /** What is checked, e.g. "failed or hung reads during the outage". */
  name: string;
  /** The measured figure, as printed in the table. */
  value: string;
  /** What it must be, e.g. "0" or "< 1000 ms". */
  bound: string;
  pass: boolean;
}

export interface Timings {
  /** Load before the fault, fault duration, load after the fault (ms). */
  before: number;
  fault: number;
  after: number;
}

export interface ScenarioRun {
  stack: DrillStack;
  short: boolean;
  timings: Timings;
  log(message: string): void;
}

/**
 * The short form runs in CI beside other test files on 2 cores, where a healthy read can queue past 2 s
 * (gateway-kill, with no Redis fault at all, showed it). There a read is hung only after this long, and a
 * latency bound is at least this: CI checks correctness (nothing failed, hung or lost), the full drill
 * checks the figures with the 2 s client timeout.
 */
export const CI_LATENCY_FLOOR_MS = 5_000;

/** The readers' client timeout: 2 s in the full drill, CI_LATENCY_FLOOR_MS in the short form. */
export function readTimeoutMs(drill: Pick<ScenarioRun, 'short'>): number {
  return drill.short ? CI_LATENCY_FLOOR_MS : 2_000;
}

/**
 * A latency bound: the figure the full drill promises, or in the short form (CI) at least the short form's
 * client timeout.
 */
export function latencyBound(drill: ScenarioRun, fullMs: number): number {
  return drill.short ? Math.max(fullMs, CI_LATENCY_FLOOR_MS) : fullMs;
}

export interface Scenario {
  name: string;
  /** One line: the fault and what must hold. */
  title: string;
  full: Timings;
  short: Timings;
  run(drill: ScenarioRun): Promise<Check[]>;
}

/** A check that a count is zero. */
export function zero(name: string, count: number): Check {
  return { name, value: String(count), bound: '0', pass: count === 0 };
}

/** A check that a figure is at most `limit`. */
export function atMost(name: string, value: number, limit: number, unit = 'ms'): Check {
  return {
    name,
    value: `${Math.round(value)}${unit ? ` ${unit}` : ''}`,
    bound: `<= ${limit}${unit ? ` ${unit}` : ''}`,
    pass: value <= limit,
  };
}

/** A check that a figure is at least `limit`. */
export function atLeast(name: string, value: number, limit: number, unit = ''): Check {
  return {
    name,
    value: `${Math.round(value * 100) / 100}${unit ? ` ${unit}` : ''}`,
    bound: `>= ${limit}${unit ? ` ${unit}` : ''}`,
    pass: value >= limit,
  };
}

export function isTrue(name: string, ok: boolean, value: string): Check {
  return { name, value, bound: 'yes', pass: ok };
}
