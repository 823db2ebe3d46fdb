// Health endpoints. /healthz: the process is alive. /readyz: can it serve? PostgreSQL is required
// (503 without it); Redis is optional (reported, never a reason for 503: the gateway serves without it).
import type { Database } from '../db/prisma.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';

export type DependencyStatus = 'up' | 'down' | 'disabled';

export interface Readiness {
  status: 'ready' | 'unavailable' | 'draining';
  postgres: DependencyStatus;
  redis: DependencyStatus;
  redisCircuit?: 'closed' | 'open';
  /** Redis Cluster nodes whose slots are served from PostgreSQL right now (one master down). */
  redisNodesDown?: string[];
  cache: 'redis' | 'in-process';
}

const CHECK_TIMEOUT_MS = 1_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkReadiness(deps: {
  db: Database;
  redis: RedisCircuit | undefined;
  draining: boolean;
}): Promise<Readiness> {
  const [postgres, redis] = await Promise.all([
    withTimeout(deps.db.$queryRawUnsafe('SELECT 1'), CHECK_TIMEOUT_MS).then(
      (): DependencyStatus => 'up',
      (): DependencyStatus => 'down',
    ),
    deps.redis
      ? withTimeout(deps.redis.redis.ping(), CHECK_TIMEOUT_MS).then(
          (): DependencyStatus => 'up',
          (): DependencyStatus => 'down',
        )
      : Promise.resolve<DependencyStatus>('disabled'),
  ]);
  const status = deps.draining ? 'draining' : postgres === 'up' ? 'ready' : 'unavailable';
  return {
    status,
    postgres,
    redis,
    ...(deps.redis && { redisCircuit: deps.redis.state }),
    ...(deps.redis?.nodesDown.length && { redisNodesDown: deps.redis.nodesDown }),
    cache: deps.redis ? 'redis' : 'in-process',
  };
}
