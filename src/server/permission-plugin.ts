// Applies the permission check (src/accounts/permissions/check.ts) to every HTTP operation before it
// executes: a refused operation runs no resolver and touches no data. The check is made once the
// operation is resolved, and a refusal is answered in place of execution (responseForOperation), so the
// plugins that act on the resolved operation (the rate limits) still run first and win when they refuse.
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { PermissionRefusedError } from '../accounts/account-errors.ts';
import { checkOperation } from '../accounts/permissions/check.ts';
import type { GatewayContext } from '../graphql/context.ts';

export function permissionPlugin(schema: GraphQLSchema): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation(context: GraphQLRequestContext<GatewayContext>) {
          if (!context.document) return null;
          const decision = checkOperation({
            schema,
            document: context.document,
            operationName: context.operationName,
            variables: context.request.variables,
            viewer: context.contextValue.viewer,
          });
          if (decision.ok) return null;
          const { message, extensions } = new PermissionRefusedError(decision);
          return {
            http: { status: decision.code === 'UNAUTHENTICATED' ? 401 : 403, headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { errors: [{ message, extensions }] } },
          };
        },
      };
    },
  };
}
