// Who is asking: the Authorization header (HTTP) or connection_init's authorization (WebSocket).
// A missing, malformed, expired or revoked token means an anonymous viewer, not an error: public
// fields still answer, and fields that need a user say UNAUTHENTICATED.
import type { Viewer } from '../graphql/context.ts';
import { isDatabaseUnavailable, ServiceUnavailableError } from '../server/errors.ts';
import type { SessionService } from './sessions.ts';

export async function viewerFrom(sessions: SessionService, authorization: string | string[] | undefined, requestId: string): Promise<Viewer | null> {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = value ? /^Bearer ([A-Za-z0-9_-]{1,128})$/i.exec(value.trim()) : null;
  if (!match) return null;
  try {
    return await sessions.authenticate(match[1]!);
  } catch (error) {
    // Not knowing who is asking is not "anonymous": refuse with a code a client can retry on, and a 503.
    if (isDatabaseUnavailable(error)) throw new ServiceUnavailableError(undefined, 503, requestId);
    throw error;
  }
}
