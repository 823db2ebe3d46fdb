// Applies the permission check (src/accounts/permissions/check.ts) to every HTTP operation once it is
// resolved and before it executes: a refused operation runs no resolver and touches no data.
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { PermissionRefusedError } from '../accounts/account-errors.ts';
import { checkOperation } from '../accounts/permissions/check.ts';
import type { GatewayContext } from '../graphql/context.ts';

export function permissionPlugin(schema: GraphQLSchema): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, contextValue }) {
          const decision = checkOperation({
            schema,
            document,
            operationName,
            variables: request.variables,
            viewer: contextValue.viewer,
          });
          if (!decision.ok) throw new PermissionRefusedError(decision, true);
        },
      };
    },
  };
}
