// Whose prices a request sees: the signed-in member's own tier (REGULAR for anonymous visitors). Member
// prices are not public, so another tier is only for platform admins. The tier is read per request from
// the user row (request-scoped loader, never a shared cache): a tier change applies at once.
import type { MemberTier } from '../generated/prisma/client.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { ForbiddenError } from '../infra/errors.ts';

export async function viewerTier(context: Pick<GatewayContext, 'viewer' | 'loaders'>): Promise<MemberTier> {
  if (!context.viewer) return 'REGULAR';
  return (await context.loaders.user.load(context.viewer.userId))?.tier ?? 'REGULAR';
}

/** The tier to price at: the one asked for, if the viewer may see it; else FORBIDDEN. */
export async function pricingTier(
  context: Pick<GatewayContext, 'viewer' | 'loaders'>,
  asked: MemberTier | null | undefined,
): Promise<MemberTier> {
  if (!asked) return viewerTier(context);
  // REGULAR is the base price, public anyway (Product.basePrice).
  if (asked === 'REGULAR' || context.viewer?.role === 'PLATFORM_ADMIN') return asked;
  if (asked === (await viewerTier(context))) return asked;
  throw new ForbiddenError('member prices of another tier are for platform admins only');
}
