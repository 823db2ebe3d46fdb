// Whose prices a request sees: the signed-in member's own tier (REGULAR for anonymous visitors). Member
// prices are not public, so another tier is only for platform admins. The tier travels with the session
// (src/accounts/sessions.ts re-reads it with the user's role), so pricing reads no user row per request,
// and it is read through the response recorder: an answer priced at a tier is shared by that tier only
// (docs/ARCHITECTURE.md, member-tier sharing).
import { viewerTier as recordedTier } from '../cache/response-cache/response-recorder.ts';
import type { MemberTier } from '../generated/prisma/client.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { ForbiddenError } from '../infra/errors.ts';

type TierContext = Pick<GatewayContext, 'viewer' | 'responseRecorder'>;

export function viewerTier(context: TierContext): MemberTier {
  return recordedTier(context) as MemberTier;
}

/** The tier to price at: the one asked for, if the viewer may see it; else FORBIDDEN. */
export function pricingTier(context: TierContext, asked: MemberTier | null | undefined): MemberTier {
  if (!asked) return viewerTier(context);
  // REGULAR is the base price, public anyway (Product.basePrice).
  if (asked === 'REGULAR' || context.viewer?.role === 'PLATFORM_ADMIN') return asked;
  if (asked === viewerTier(context)) return asked;
  throw new ForbiddenError('member prices of another tier are for platform admins only');
}
