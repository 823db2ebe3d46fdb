// Resolvers of account self-service (schema/self-service.graphql).
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { requireViewer } from './authorization.ts';

export const selfServiceResolvers: Resolvers = {
  Mutation: {
    changePassword: (_root, { currentPassword, newPassword }, context) =>
      context.services.selfService.changePassword(requireViewer(context), currentPassword, newPassword),
    requestPasswordReset: (_root, { email }, { services }) => services.passwordResets.request(email),
    resetPassword: (_root, { token, newPassword }, { services }) => services.passwordResets.reset(token, newPassword),
    signOutEverywhere: (_root, _args, context) =>
      context.services.selfService.signOutEverywhere(requireViewer(context)),
  },
};
