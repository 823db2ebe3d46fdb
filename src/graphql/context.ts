// The per-request GraphQL context: everything request-scoped lives here, nothing in hidden globals
// (docs/ARCHITECTURE.md). The composition root (src/server/app.ts, createContext) builds one per HTTP
// request or WebSocket operation, with the loaders from createLoaderFactory (loaders.ts).
import type { RequestStats } from '../cache/loader-factory.ts';
import type { Logger } from '../infra/logger.ts';
import type { Viewer } from '../accounts/viewer.ts';
import type { Loaders } from './loaders.ts';
import type { Services } from './services.ts';
import type { ResponseRecorder } from '../cache/response-cache/response-recorder.ts';

export type { Loaders } from './loaders.ts';

export interface GatewayContext {
  requestId: string;
  logger: Logger;
  stats: RequestStats;
  loaders: Loaders;
  services: Services;
  viewer: Viewer | null;
  /** For the session list; never logged. */
  userAgent: string | undefined;
  /** For per-IP limits (src/server/client-ip.ts); never logged. */
  clientIp: string;
  /** When the answer may be stored by the response cache: what it depends on (response-recorder.ts). */
  responseRecorder?: ResponseRecorder;
}
