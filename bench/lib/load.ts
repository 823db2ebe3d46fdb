// Load with autocannon's programmatic API: every server gets the same connections, duration and bodies.
// Bodies are cycled through a shared counter (setupRequest), so the 32 connections spread over all the
// hot ids instead of marching through them in lockstep.
import autocannon from 'autocannon';

export interface LoadOptions {
  connections: number;
  /** Seconds to run; ignored when `amount` is given. */
  seconds?: number;
  /** Exact number of requests to make. */
  amount?: number;
  headers?: Record<string, string>;
  /** Fixed rate: requests per second over all connections (autocannon overallRate); unset: as fast as it can. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Completed responses per second over the whole run. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  /** Responses whose body carries a GraphQL `errors` array. */
  graphqlErrors: number;
  /** Socket errors and timeouts. */
  socketErrors: number;
  timeouts: number;
}

export interface RunningLoad {
  /** Resolves when the run ends by itself or after stop(). */
  done: Promise<LoadResult>;
  stop(): void;
}

export function startLoad(url: string, bodies: readonly string[], options: LoadOptions): RunningLoad {
  if (bodies.length === 0) throw new Error('no request bodies');
  let next = 0;
  let responses = 0;
  let graphqlErrors = 0;
  let settle: { resolve(result: autocannon.Result): void; reject(error: unknown): void } | undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => (settle = { resolve, reject }));
  // With a callback autocannon returns its Instance (stop(), events) rather than a bare Promise.
  const instance = autocannon(
    {
      url,
      connections: options.connections,
      ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds ?? 10 }),
      timeout: 10,
      ...(options.rate !== undefined && { overallRate: options.rate }),
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            request.body = bodies[next++ % bodies.length]!;
            return request;
          },
          onResponse: (_status, body) => {
            responses += 1;
            if (body.includes('"errors":')) graphqlErrors += 1;
          },
        },
      ],
    },
    (error, result) => (error ? settle!.reject(error) : settle!.resolve(result)),
  );
  const done = finished.then((result): LoadResult => {
    return {
      requests: responses,
      seconds: result.duration,
      rps: result.duration > 0 ? responses / result.duration : 0,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      non2xx: result.non2xx,
      graphqlErrors,
      socketErrors: result.errors,
      timeouts: result.timeouts,
    };
  });
  return { done, stop: () => instance.stop() };
}

export function runLoad(url: string, bodies: readonly string[], options: LoadOptions): Promise<LoadResult> {
  return startLoad(url, bodies, options).done;
}
