// The permission check, as a pure function: given the schema, the document, the operation's name and
// variables, and who is asking, it answers ok or the first refusal. It throws nothing and touches
// nothing, so whatever guards an operation before execution (over HTTP or WebSocket) and the
// resolve-time guard (schema-permissions.ts) all ask the same question.
import {
  getArgumentValues,
  getDirectiveValues,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { holds, type Permission, type Role } from './role-permissions.ts';

/** What the check needs to know of the viewer (src/accounts/viewer.ts). */
export interface Asker {
  role: Role;
  organizationId: string | null;
}

export type Decision =
  | { ok: true }
  | { ok: false; code: 'UNAUTHENTICATED' | 'FORBIDDEN'; field: string; permission: Permission; message: string };

const OK: Decision = { ok: true };

/** The permission a field declares with @requires, if any. */
export function requiredPermission(
  schema: GraphQLSchema,
  field: GraphQLField<unknown, unknown>,
): Permission | undefined {
  const directive = schema.getDirective('requires');
  if (!directive || !field.astNode) return undefined;
  return getDirectiveValues(directive, field.astNode)?.permission as Permission | undefined;
}

/**
 * One field: does the viewer hold the permission, and, when the field takes an `organizationId`, is it
 * their own organization (platform admins may name any)?
 */
export function decide(
  field: string,
  permission: Permission,
  viewer: Asker | null,
  args: Record<string, unknown>,
): Decision {
  if (permission === 'PUBLIC') return OK;
  if (!viewer) return { ok: false, code: 'UNAUTHENTICATED', field, permission, message: `sign in first (${field})` };
  if (!holds(viewer.role, permission))
    return {
      ok: false,
      code: 'FORBIDDEN',
      field,
      permission,
      message: `${field} requires the ${permission} permission`,
    };
  const organizationId = args.organizationId;
  if (
    typeof organizationId === 'string' &&
    viewer.role !== 'PLATFORM_ADMIN' &&
    permission !== 'SIGNED_IN' &&
    organizationId !== viewer.organizationId
  )
    return { ok: false, code: 'FORBIDDEN', field, permission, message: `${field}: not your organization` };
  return OK;
}

export interface OperationToCheck {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
  viewer: Asker | null;
}

/** A field of a document that declares a permission, in the order the check meets it. */
interface GuardedField {
  node: FieldNode;
  field: GraphQLField<unknown, unknown>;
  name: string;
  permission: Permission;
}

/**
 * The guarded fields of each operation of a document, found once per document: Apollo hands the same
 * parsed document to every request with the same query text, so a warm operation walks no AST here,
 * and one whose fields declare nothing is checked in constant time.
 */
const plans = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, GuardedField[]>>>();

function guardedFields(schema: GraphQLSchema, document: DocumentNode, chosen: unknown): GuardedField[] {
  const found: GuardedField[] = [];
  const typeInfo = new TypeInfo(schema);
  const roots = document.definitions.filter((d) => d === chosen || d.kind === Kind.FRAGMENT_DEFINITION);
  for (const root of roots) {
    visit(
      root,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const field = typeInfo.getFieldDef();
          const parent = typeInfo.getParentType();
          const permission = field && requiredPermission(schema, field);
          if (field && parent && permission)
            found.push({ node, field, name: `${parent.name}.${field.name}`, permission });
        },
      }),
    );
  }
  return found;
}

/**
 * Every field of the operation (and of the document's fragments) that declares a permission, checked
 * against the viewer before anything executes. Argument values that cannot be coerced are left to
 * execution, which refuses them with BAD_USER_INPUT.
 */
export function checkOperation(request: OperationToCheck): Decision {
  const { schema, document, viewer } = request;
  const variables = request.variables ?? {};
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const chosen = request.operationName
    ? operations.find((o) => o.name?.value === request.operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  let bySchema = plans.get(schema);
  if (!bySchema) plans.set(schema, (bySchema = new WeakMap()));
  let byOperation = bySchema.get(document);
  if (!byOperation) bySchema.set(document, (byOperation = new Map()));
  // Keyed by the chosen operation's name; '' when no operation is chosen (only fragments are checked).
  const key = chosen ? `:${chosen.name?.value ?? ''}` : '';
  let fields = byOperation.get(key);
  if (!fields) byOperation.set(key, (fields = guardedFields(schema, document, chosen)));
  for (const { node, field, name, permission } of fields) {
    let args: Record<string, unknown> = {};
    try {
      args = getArgumentValues(field, node, variables);
    } catch {
      // Left to execution (BAD_USER_INPUT); the permission itself is still checked.
    }
    const verdict = decide(name, permission, viewer, args);
    if (!verdict.ok) return verdict;
  }
  return OK;
}
