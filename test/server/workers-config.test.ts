// WORKERS: how many gateway processes share the port (src/server/cluster.ts). One in development, one
// per core in production unless set; `auto` is one per core; anything else stops the start.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const production = { NODE_ENV: 'production', KEY_HASH_SECRET: 'workers-config-secret' };

describe('WORKERS', () => {
  it('defaults to 1 in development and to one per core in production; auto is one per core', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig(production).workers).toBe(availableParallelism());
    expect(loadConfig({ WORKERS: 'auto' }).workers).toBe(availableParallelism());
    expect(loadConfig({ ...production, WORKERS: '1' }).workers).toBe(1);
    expect(loadConfig({ WORKERS: '3' }).workers).toBe(3);
  });

  it('anything else stops the start with the variable named', () => {
    for (const value of ['abc', '0', '-1', '1.5'])
      expect(() => loadConfig({ WORKERS: value }), value).toThrow(/^invalid configuration: WORKERS must be/);
  });
});
