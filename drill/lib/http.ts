// GraphQL over HTTP for the drills: every call has a client timeout, so a hung request is counted as hung
// instead of stalling the drill, and every outcome (answer, GraphQL error code, timeout, refused
// connection) comes back as a value.
export const SIGN_IN = /* GraphQL */ `mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token }
}`;

export interface Outcome<T = any> {
  /** HTTP 200, data and no errors. */
  ok: boolean;
  ms: number;
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  /** The first GraphQL error code, or TIMEOUT / NETWORK when no answer came. */
  code?: string;
  error?: string;
}

export async function post<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  timeoutMs = 2_000,
): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let body: { data?: T | null; errors?: Outcome['errors'] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return { ok: false, ms, status: response.status, code: 'NOT_JSON', error: text.slice(0, 200) };
    }
    const code = body.errors?.[0]?.extensions?.code;
    return {
      ok: response.status === 200 && !body.errors && body.data != null,
      ms,
      status: response.status,
      data: body.data ?? null,
      ...(body.errors && { errors: body.errors, code: String(code ?? 'UNKNOWN') }),
    };
  } catch (error) {
    const ms = performance.now() - started;
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      ok: false,
      ms,
      status: 0,
      code: timedOut ? 'TIMEOUT' : 'NETWORK',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** GET a gateway's /readyz: its status code and body (0 when nothing answered within 2 s). */
export async function readiness(
  base: string,
): Promise<{ status: number; body: Record<string, string> & { redisNodesDown?: string[] } }> {
  try {
    const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  } catch {
    return { status: 0, body: {} };
  }
}

/** Sum of one counter's samples on a gateway's /metrics whose labels contain every `labels` pair. */
/** A gateway's /metrics text (Prometheus exposition format). */
export async function scrape(metricsUrl: string): Promise<string> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(2_000) });
  return response.text();
}

/** The sum of a metric's samples in a scraped /metrics text, over the series that carry `labels`. */
export function sumOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
