// How a storefront uses the typed client generated from client/operations/*.graphql (npm run codegen).
// Nothing runs this file: test/schema/codegen.test.ts compiles it, so it proves that results and
// variables are really typed. Each `@ts-expect-error` below must be an error, or the compile fails.
import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { graphql } from '../src/generated/client/index.ts';
import type {
  PostcodeLookupDocument,
  ProductPageDocument,
  SeatMapDocument,
  MemberTier,
} from '../src/generated/client/graphql.ts';

/** True only for `any`: a generated type that silently became `any` would make every check below pass. */
type IsAny<T> = 0 extends 1 & T ? true : false;

// graphql() returns the typed document for the exact source of an operation file (client/operations/accounts.graphql).
export const meQuery = graphql(`query Me {
  me {
    id
    displayName
    role
    tier
    organization {
      id
      name
    }
  }
}`);

export function greeting(result: ResultOf<typeof meQuery>): string {
  const me = result.me;
  if (!me) return 'Sign in';
  const role: 'CUSTOMER' | 'ORG_ADMIN' | 'PLATFORM_ADMIN' | 'BOX_OFFICE' | 'CATALOG_MANAGER' = me.role;
  const organization: string | undefined = me.organization?.name;
  // @ts-expect-error Me does not select the user's email
  const email: string = me.email;
  return `Hello ${me.displayName} (${role}, ${me.tier})${organization ? ` of ${organization}` : ''}${email}`;
}

export const goldPriceVariables: VariablesOf<typeof ProductPageDocument> = { id: '42', tier: 'GOLD' };
// @ts-expect-error 'DIAMOND' is not a MemberTier
export const badTierVariables: VariablesOf<typeof ProductPageDocument> = { id: '42', tier: 'DIAMOND' };
// @ts-expect-error the product id is required
export const missingIdVariables: VariablesOf<typeof ProductPageDocument> = { tier: 'GOLD' };

/** The member price shown on a product page, e.g. "MYR 1299.90"; Decimal arrives as a string. */
export function memberPrice(result: ResultOf<typeof ProductPageDocument>): string | undefined {
  const amount = result.product?.price.amount;
  const amountIsTyped: IsAny<typeof amount> = false;
  const amountText: string | undefined = amount;
  const currency: string | undefined = result.product?.price.currency;
  const isMemberPrice: boolean | undefined = result.product?.price.isMemberPrice;
  const available: number | undefined = result.product?.inventory?.available;
  // @ts-expect-error ProductPage does not select salesCount
  const salesCount: number | undefined = result.product?.salesCount;
  // @ts-expect-error amount is a Decimal string, not a number
  const asNumber: number | undefined = result.product?.price.amount;
  void [amountIsTyped, isMemberPrice, available, salesCount, asNumber];
  return amountText === undefined ? undefined : `${currency ?? 'MYR'} ${amountText}`;
}

export function tierLabel(tier: MemberTier): string {
  return tier.charAt(0) + tier.slice(1).toLowerCase();
}

export function townOf(result: ResultOf<typeof PostcodeLookupDocument>): string {
  const state: string | undefined = result.postcode?.state.code;
  // @ts-expect-error Postcode has no field named town
  const town: string | undefined = result.postcode?.town;
  void town;
  return result.postcode ? `${result.postcode.city}, ${state ?? ''}` : 'unknown postcode';
}

/** Seats left in one section of a seat map. */
export function seatsLeft(result: ResultOf<typeof SeatMapDocument>, section: string): number {
  const summary = result.event?.sections.find((s) => s.name === section);
  const status: 'AVAILABLE' | 'HELD' | 'BOOKED' | undefined = result.event?.seats[0]?.status;
  void status;
  return summary?.available ?? 0;
}
