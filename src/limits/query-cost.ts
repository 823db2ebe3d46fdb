// Query cost that counts what an operation can return: each field costs one, and a list field
// multiplies the cost of what it selects by the number of items it can return: its `first` (a literal,
// a variable's value, or the largest page when the variable is absent), its connection parent's
// `first`, or its cap (list-caps.ts). Aliases and fragments are counted where they are used, so 30
// aliases cost 30 times, and a cycle in the graph (Seat.event → Event.seats) costs the product of its
// lists. Computed after validation with the variables known, for HTTP and WebSocket alike.
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { isConnectionType, LIST_CAPS, MAX_PAGE_SIZE } from './list-caps.ts';

export interface CostInput {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  variables: Readonly<Record<string, unknown>> | null | undefined;
  /** Set when a page size came from a variable: then the cost holds for these variables only. */
  readVariable?: boolean;
}

function pageSize(node: FieldNode, field: GraphQLField<unknown, unknown>, input: CostInput): number | undefined {
  const definition = field.args.find((a) => a.name === 'first');
  if (!definition) return undefined;
  const argument = node.arguments?.find((a) => a.name.value === 'first');
  const value = argument ? literalValue(argument.value, input) : definition.defaultValue;
  if (value === undefined && argument) return MAX_PAGE_SIZE;
  const size = typeof value === 'number' && Number.isFinite(value) ? value : MAX_PAGE_SIZE;
  return Math.min(Math.max(size, 0), MAX_PAGE_SIZE);
}

function literalValue(node: ValueNode, input: CostInput): unknown {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    input.readVariable = true;
    return input.variables?.[node.name.value] ?? undefined;
  }
  return undefined;
}

function fieldsOf(type: GraphQLNamedType): Record<string, GraphQLField<unknown, unknown>> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields() : undefined;
}

function selectionCost(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType,
  page: number | undefined,
  input: CostInput,
  spreading: Set<string>,
): number {
  let total = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? input.schema.getType(selection.typeCondition.name.value) : parent;
      total += selectionCost(selection.selectionSet, type ?? parent, page, input, spreading);
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      const fragment = input.fragments.get(name);
      if (!fragment || spreading.has(name)) continue;
      spreading.add(name);
      const type = input.schema.getType(fragment.typeCondition.name.value) ?? parent;
      total += selectionCost(fragment.selectionSet, type, page, input, spreading);
      spreading.delete(name);
    } else {
      total += fieldCost(selection, parent, page, input, spreading);
    }
  }
  return total;
}

function fieldCost(
  node: FieldNode,
  parent: GraphQLNamedType,
  page: number | undefined,
  input: CostInput,
  spreading: Set<string>,
): number {
  const field = fieldsOf(parent)?.[node.name.value];
  if (!field) return 1; // __typename, or introspection (off in production); validation has checked the rest
  const type = getNamedType(field.type);
  const size = pageSize(node, field, input);
  const isList = isListType(getNullableType(field.type));
  const multiplier = isList
    ? (size ??
      LIST_CAPS[`${parent.name}.${field.name}`] ??
      (isConnectionType(parent.name) ? page : undefined) ??
      MAX_PAGE_SIZE)
    : 1;
  const childPage = !isList && size !== undefined ? size : undefined;
  const children =
    node.selectionSet && (fieldsOf(type) || isAbstractType(type))
      ? selectionCost(node.selectionSet, type, childPage, input, spreading)
      : 0;
  return multiplier * (1 + children);
}

/**
 * Costs of operations whose page sizes are all literals, by operation node: Apollo hands the same parsed
 * document to every request with the same query text, so those are counted once.
 */
const fixedCosts = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, number>>();

/** The cost of one operation with its variables: about how many values its answer can hold at most. */
export function operationCost(input: CostInput): number {
  let known = fixedCosts.get(input.schema);
  if (!known) fixedCosts.set(input.schema, (known = new WeakMap()));
  const fixed = known.get(input.operation);
  if (fixed !== undefined) return fixed;
  const counting: CostInput = { ...input, readVariable: false };
  const cost = countCost(counting);
  if (!counting.readVariable) known.set(input.operation, cost);
  return cost;
}

function countCost(input: CostInput): number {
  const root =
    input.operation.operation === 'query'
      ? input.schema.getQueryType()
      : input.operation.operation === 'mutation'
        ? input.schema.getMutationType()
        : input.schema.getSubscriptionType();
  if (!root) return 0;
  return selectionCost(input.operation.selectionSet, root, undefined, input, new Set());
}
