// How many items each list field can return. A list with a `first` argument returns at most that many
// (1..MAX_PAGE_SIZE, checked by its resolver); a connection's edges and nodes at most its parent's
// `first`; every other list field has a cap here, which the query cost multiplies by and which
// guardSchema (execution-guard.ts) enforces on the result. test/security/schema-bounds.test.ts fails on a
// list field that is in none of these three groups, so a new list cannot slip past the cost analysis.
import { MAX_PAGE_SIZE } from '../graphql/arguments.ts';

export { MAX_PAGE_SIZE };

export const LIST_CAPS: Readonly<Record<string, number>> = {
  'Query.categories': 50,
  'Category.children': 50,
  'Query.states': 50,
  'Query.cities': 100,
  'State.cities': 100,
  'City.postcodes': 400,
  'Postcode.cities': 10,
  'User.sessions': 100,
  // An organization's staff, for its admins; a page argument can replace the cap if staffs grow.
  'Query.organizationMembers': 500,
  'Organization.venues': 200,
  // The largest seat map a venue can have; a seat map is the one list a client needs whole.
  'Event.seats': 5_000,
  'SeatChange.seats': 5_000,
  'Event.sections': 100,
  // A hold or booking has at most TICKETING_MAX_SEATS_PER_USER seats (100 at the most).
  'Hold.seats': 100,
  'Booking.seats': 100,
  // A cart has at most 50 lines (src/commerce/cart-store.ts), and an order is one cart.
  'Cart.items': 50,
  'Order.items': 50,
  'Mutation.purgeCache': 1,
};

/** Types whose `edges` and `nodes` lists hold one page of their parent field's `first`. */
export function isConnectionType(typeName: string): boolean {
  return typeName.endsWith('Connection');
}
