// The organizationActivity subscription (schema/activity.graphql): the organization is checked when the
// subscription starts, and the topic is the organization's own, so nothing of another one arrives.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { requireOrganizationPermission } from './authorization.ts';
import { activityTopic } from './organization-activity.ts';

export const activityResolvers: Resolvers = {
  Subscription: {
    organizationActivity: {
      subscribe: (_root, { organizationId }, context) => {
        const id = parseUuid(organizationId, 'organizationId');
        requireOrganizationPermission(context, id, 'ACTIVITY_VIEW');
        return context.services.bus.iterate(activityTopic(id));
      },
      resolve: (payload: unknown) => payload as never,
    },
  },
};
