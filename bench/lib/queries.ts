// The GraphQL operations the bench sends, identical for every server.

export const PRODUCT_PAGE = /* GraphQL */ `query ProductPage($id: ID!) {
  product(id: $id) {
    id
    name
    basePrice
    price { amount }
    category { name parent { name } }
    inventory { available inStock }
  }
}`;

export const LISTING = /* GraphQL */ `query Listing($first: Int, $filter: ProductFilter) {
  products(first: $first, sort: PRICE_ASC, filter: $filter) {
    nodes { id name basePrice inventory { available } }
  }
}`;

export const SIGN_IN = /* GraphQL */ `mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token }
}`;

export const UPDATE_PRICE = /* GraphQL */ `mutation UpdatePrice($id: ID!, $price: Decimal!) {
  updateProduct(id: $id, input: { price: $price }) { id basePrice }
}`;

export function body(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

export interface GraphQLResult<T = any> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** One POST to a /graphql endpoint on 127.0.0.1, with a timeout so no call can hang the run. */
export async function post<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body(query, variables),
    signal: AbortSignal.timeout(15_000),
  });
  const json = (await response.json()) as { data?: T | null; errors?: GraphQLResult['errors'] };
  return { status: response.status, ...json };
}
