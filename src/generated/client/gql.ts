/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Me {\n  me {\n    id\n    displayName\n    role\n    tier\n    organization {\n      id\n      name\n    }\n  }\n}": typeof types.MeDocument,
    "query ProductPage($id: ID!, $tier: MemberTier) {\n  product(id: $id) {\n    id\n    sku\n    name\n    description\n    basePrice\n    price(tier: $tier) {\n      amount\n      currency\n      isMemberPrice\n    }\n    category {\n      id\n      name\n      parent {\n        id\n        name\n      }\n    }\n    inventory {\n      available\n      inStock\n    }\n  }\n}\n\nquery ProductList($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {\n  products(filter: $filter, sort: $sort, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      basePrice\n      inventory {\n        inStock\n      }\n    }\n  }\n}\n\nquery CategoryTree {\n  categories {\n    id\n    slug\n    name\n    children {\n      id\n      slug\n      name\n    }\n  }\n}\n\nsubscription StockLevel($productId: ID!) {\n  inventoryChanged(productId: $productId) {\n    productId\n    available\n    inStock\n  }\n}": typeof types.ProductPageDocument,
    "query PostcodeLookup($code: String!) {\n  postcode(code: $code) {\n    code\n    city\n    cities\n    state {\n      code\n      name\n    }\n  }\n}\n\nquery States {\n  states {\n    id\n    code\n    name\n  }\n}\n\nquery CitiesOfState($state: String!) {\n  cities(state: $state) {\n    name\n    postcodes\n  }\n}": typeof types.PostcodeLookupDocument,
    "query UpcomingEvents($filter: EventFilter, $first: Int, $after: String) {\n  events(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      startsAt\n      status\n      availableSeats\n      venue {\n        name\n        city\n      }\n    }\n  }\n}\n\nquery SeatMap($eventId: ID!, $section: String) {\n  event(id: $eventId) {\n    id\n    name\n    sections {\n      name\n      total\n      available\n      minPrice\n      maxPrice\n    }\n    seats(section: $section) {\n      id\n      section\n      row\n      number\n      price\n      status\n    }\n  }\n}\n\nsubscription SeatUpdates($eventId: ID!) {\n  seatsChanged(eventId: $eventId) {\n    eventId\n    seats {\n      id\n      status\n    }\n  }\n}": typeof types.UpcomingEventsDocument,
};
const documents: Documents = {
    "query Me {\n  me {\n    id\n    displayName\n    role\n    tier\n    organization {\n      id\n      name\n    }\n  }\n}": types.MeDocument,
    "query ProductPage($id: ID!, $tier: MemberTier) {\n  product(id: $id) {\n    id\n    sku\n    name\n    description\n    basePrice\n    price(tier: $tier) {\n      amount\n      currency\n      isMemberPrice\n    }\n    category {\n      id\n      name\n      parent {\n        id\n        name\n      }\n    }\n    inventory {\n      available\n      inStock\n    }\n  }\n}\n\nquery ProductList($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {\n  products(filter: $filter, sort: $sort, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      basePrice\n      inventory {\n        inStock\n      }\n    }\n  }\n}\n\nquery CategoryTree {\n  categories {\n    id\n    slug\n    name\n    children {\n      id\n      slug\n      name\n    }\n  }\n}\n\nsubscription StockLevel($productId: ID!) {\n  inventoryChanged(productId: $productId) {\n    productId\n    available\n    inStock\n  }\n}": types.ProductPageDocument,
    "query PostcodeLookup($code: String!) {\n  postcode(code: $code) {\n    code\n    city\n    cities\n    state {\n      code\n      name\n    }\n  }\n}\n\nquery States {\n  states {\n    id\n    code\n    name\n  }\n}\n\nquery CitiesOfState($state: String!) {\n  cities(state: $state) {\n    name\n    postcodes\n  }\n}": types.PostcodeLookupDocument,
    "query UpcomingEvents($filter: EventFilter, $first: Int, $after: String) {\n  events(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      startsAt\n      status\n      availableSeats\n      venue {\n        name\n        city\n      }\n    }\n  }\n}\n\nquery SeatMap($eventId: ID!, $section: String) {\n  event(id: $eventId) {\n    id\n    name\n    sections {\n      name\n      total\n      available\n      minPrice\n      maxPrice\n    }\n    seats(section: $section) {\n      id\n      section\n      row\n      number\n      price\n      status\n    }\n  }\n}\n\nsubscription SeatUpdates($eventId: ID!) {\n  seatsChanged(eventId: $eventId) {\n    eventId\n    seats {\n      id\n      status\n    }\n  }\n}": types.UpcomingEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Me {\n  me {\n    id\n    displayName\n    role\n    tier\n    organization {\n      id\n      name\n    }\n  }\n}"): (typeof documents)["query Me {\n  me {\n    id\n    displayName\n    role\n    tier\n    organization {\n      id\n      name\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ProductPage($id: ID!, $tier: MemberTier) {\n  product(id: $id) {\n    id\n    sku\n    name\n    description\n    basePrice\n    price(tier: $tier) {\n      amount\n      currency\n      isMemberPrice\n    }\n    category {\n      id\n      name\n      parent {\n        id\n        name\n      }\n    }\n    inventory {\n      available\n      inStock\n    }\n  }\n}\n\nquery ProductList($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {\n  products(filter: $filter, sort: $sort, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      basePrice\n      inventory {\n        inStock\n      }\n    }\n  }\n}\n\nquery CategoryTree {\n  categories {\n    id\n    slug\n    name\n    children {\n      id\n      slug\n      name\n    }\n  }\n}\n\nsubscription StockLevel($productId: ID!) {\n  inventoryChanged(productId: $productId) {\n    productId\n    available\n    inStock\n  }\n}"): (typeof documents)["query ProductPage($id: ID!, $tier: MemberTier) {\n  product(id: $id) {\n    id\n    sku\n    name\n    description\n    basePrice\n    price(tier: $tier) {\n      amount\n      currency\n      isMemberPrice\n    }\n    category {\n      id\n      name\n      parent {\n        id\n        name\n      }\n    }\n    inventory {\n      available\n      inStock\n    }\n  }\n}\n\nquery ProductList($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {\n  products(filter: $filter, sort: $sort, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      basePrice\n      inventory {\n        inStock\n      }\n    }\n  }\n}\n\nquery CategoryTree {\n  categories {\n    id\n    slug\n    name\n    children {\n      id\n      slug\n      name\n    }\n  }\n}\n\nsubscription StockLevel($productId: ID!) {\n  inventoryChanged(productId: $productId) {\n    productId\n    available\n    inStock\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query PostcodeLookup($code: String!) {\n  postcode(code: $code) {\n    code\n    city\n    cities\n    state {\n      code\n      name\n    }\n  }\n}\n\nquery States {\n  states {\n    id\n    code\n    name\n  }\n}\n\nquery CitiesOfState($state: String!) {\n  cities(state: $state) {\n    name\n    postcodes\n  }\n}"): (typeof documents)["query PostcodeLookup($code: String!) {\n  postcode(code: $code) {\n    code\n    city\n    cities\n    state {\n      code\n      name\n    }\n  }\n}\n\nquery States {\n  states {\n    id\n    code\n    name\n  }\n}\n\nquery CitiesOfState($state: String!) {\n  cities(state: $state) {\n    name\n    postcodes\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query UpcomingEvents($filter: EventFilter, $first: Int, $after: String) {\n  events(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      startsAt\n      status\n      availableSeats\n      venue {\n        name\n        city\n      }\n    }\n  }\n}\n\nquery SeatMap($eventId: ID!, $section: String) {\n  event(id: $eventId) {\n    id\n    name\n    sections {\n      name\n      total\n      available\n      minPrice\n      maxPrice\n    }\n    seats(section: $section) {\n      id\n      section\n      row\n      number\n      price\n      status\n    }\n  }\n}\n\nsubscription SeatUpdates($eventId: ID!) {\n  seatsChanged(eventId: $eventId) {\n    eventId\n    seats {\n      id\n      status\n    }\n  }\n}"): (typeof documents)["query UpcomingEvents($filter: EventFilter, $first: Int, $after: String) {\n  events(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      id\n      name\n      startsAt\n      status\n      availableSeats\n      venue {\n        name\n        city\n      }\n    }\n  }\n}\n\nquery SeatMap($eventId: ID!, $section: String) {\n  event(id: $eventId) {\n    id\n    name\n    sections {\n      name\n      total\n      available\n      minPrice\n      maxPrice\n    }\n    seats(section: $section) {\n      id\n      section\n      row\n      number\n      price\n      status\n    }\n  }\n}\n\nsubscription SeatUpdates($eventId: ID!) {\n  seatsChanged(eventId: $eventId) {\n    eventId\n    seats {\n      id\n      status\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;