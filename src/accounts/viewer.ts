// Who is asking: the Authorization header (HTTP) or connection_init's authorization (WebSocket).
// A missing, malformed, expired or revoked token means an anonymous viewer, not an error: public
// fields still answer, and fields that need a user say UNAUTHENTICATED.
import type { MemberTier, Role } from '../generated/prisma/enums.ts';
import { isDatabaseUnavailable, ServiceUnavailableError } from '../infra/errors.ts';

/** The signed-in user, when there is one (src/accounts/sessions.ts). */
export interface Viewer {
  sessionId: string;
  userId: string;
  role: Role;
  organizationId: string | null;
  /** Prices are shown at this tier; carried by the session, refreshed with it (sessions.ts). */
  tier: MemberTier;
}

/** What viewerFrom needs of the session store (src/accounts/sessions.ts). */
export interface Authenticator {
  authenticate(token: string): Promise<Viewer | null>;
}

export async function viewerFrom(
  sessions: Authenticator,
  authorization: string | string[] | undefined,
  requestId: string,
): Promise<Viewer | null> {
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
