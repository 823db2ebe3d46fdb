// Makes the @requires declarations visible and binding in the executable schema: each field's
// description says which permission it needs (introspection shows it), and its resolver (or subscribe)
// checks the permission again when it runs, so a path that skipped the check before execution (the
// WebSocket one, say) is still refused.
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { PermissionRefusedError } from '../account-errors.ts';
import type { Viewer } from '../viewer.ts';
import { decide, requiredPermission } from './check.ts';
import type { Permission } from './role-permissions.ts';

type Asking = { viewer: Viewer | null };

function guarded(
  name: string,
  permission: Permission,
  resolve: GraphQLFieldResolver<unknown, Asking>,
): GraphQLFieldResolver<unknown, Asking> {
  return (source, args, context, info) => {
    const verdict = decide(name, permission, context.viewer, args);
    if (!verdict.ok) throw new PermissionRefusedError(verdict);
    return resolve(source, args, context, info);
  };
}

/** Decorates the schema in place, once at start-up; returns the fields and the permission each needs. */
export function declarePermissions(schema: GraphQLSchema): Map<string, Permission> {
  const declared = new Map<string, Permission>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const permission = requiredPermission(schema, field);
      if (!permission) continue;
      const name = `${type.name}.${field.name}`;
      declared.set(name, permission);
      const note = `Requires permission: ${permission}.`;
      field.description = field.description ? `${field.description}\n\n${note}` : note;
      field.resolve = guarded(
        name,
        permission,
        (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, Asking>,
      );
      if (field.subscribe)
        field.subscribe = guarded(name, permission, field.subscribe as GraphQLFieldResolver<unknown, Asking>);
    }
  }
  return declared;
}
