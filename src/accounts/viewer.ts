// Who is asking: the Authorization header (HTTP) or connection_init's authorization (WebSocket).
// A missing, malformed, expired or revoked token means an anonymous viewer, not an error: public
// fields still answer, and fields that need a user say UNAUTHENTICATED.
import type { Viewer } from '../graphql/context.ts';
import type { SessionService } from './sessions.ts';

export async function viewerFrom(sessions: SessionService, authorization: string | string[] | undefined): Promise<Viewer | null> {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = value ? /^Bearer ([A-Za-z0-9_-]{1,128})$/i.exec(value.trim()) : null;
  return match ? sessions.authenticate(match[1]!) : null;
}
