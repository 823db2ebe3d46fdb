// Resolvers of accounts. `me` reads the user through the request-scoped loader: never a shared cache.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { requireViewer } from './authorization.ts';

export const accountResolvers: Resolvers = {
  Query: {
    me: (_root, _args, { viewer, loaders }) => (viewer ? loaders.user.load(viewer.userId) : null),
  },
  Mutation: {
    signUp: (_root, args, { services }) => services.accounts.signUp(args),
    signIn: (_root, { email, password }, { services, userAgent, clientIp }) =>
      services.accounts.signIn(email, password, { ip: clientIp, userAgent }),
    signOut: async (_root, _args, context) => {
      const viewer = requireViewer(context);
      const revoked = await context.services.sessions.revoke(viewer.sessionId, viewer.userId);
      await context.services.audit.record({
        action: 'SIGN_OUT',
        actorId: viewer.userId,
        organizationId: viewer.organizationId,
      });
      return revoked;
    },
    revokeSession: async (_root, { id }, context) => {
      const viewer = requireViewer(context);
      const sessionId = parseUuid(id, 'id');
      const revoked = await context.services.sessions.revoke(sessionId, viewer.userId);
      if (revoked)
        await context.services.audit.record({
          action: 'SESSION_REVOKED',
          actorId: viewer.userId,
          organizationId: viewer.organizationId,
          targetType: 'Session',
          targetId: sessionId,
        });
      return revoked;
    },
  },
  User: {
    organization: (user, _args, { loaders }) =>
      user.organizationId ? loaders.organization.load(user.organizationId) : null,
    // Only the signed-in user's own sessions, whoever the parent is.
    sessions: async (user, _args, context) => {
      const viewer = requireViewer(context);
      if (viewer.userId !== user.id) return [];
      const sessions = await context.services.sessions.listOf(viewer.userId);
      return sessions.map((s) => ({ ...s, current: s.id === viewer.sessionId }));
    },
  },
};
