-- Invariants that Prisma's schema language cannot express. The database enforces them, so no code path
-- (a bug, a race, a script) can oversell stock or store an impossible row. Hand-written: CHECK
-- constraints are the one thing scripts/migrations.ts leaves out of its drift comparison.

ALTER TABLE "Inventory"
  ADD CONSTRAINT "Inventory_onHand_nonnegative" CHECK ("onHand" >= 0),
  ADD CONSTRAINT "Inventory_reserved_within_onHand" CHECK ("reserved" >= 0 AND "reserved" <= "onHand");

ALTER TABLE "Product" ADD CONSTRAINT "Product_price_nonnegative" CHECK ("price" >= 0);
ALTER TABLE "MemberPrice" ADD CONSTRAINT "MemberPrice_price_nonnegative" CHECK ("price" >= 0);
ALTER TABLE "CartItem" ADD CONSTRAINT "CartItem_quantity_positive" CHECK ("quantity" > 0);
ALTER TABLE "Postcode" ADD CONSTRAINT "Postcode_code_five_digits" CHECK ("code" ~ '^[0-9]{5}$');

ALTER TABLE "Event"
  ADD CONSTRAINT "Event_sales_window_ordered" CHECK ("salesOpenAt" < "salesCloseAt"),
  ADD CONSTRAINT "Event_capacity_nonnegative" CHECK ("capacity" >= 0);

ALTER TABLE "Seat"
  ADD CONSTRAINT "Seat_price_nonnegative" CHECK ("price" >= 0),
  -- a HELD seat always names its hold; an AVAILABLE one never does
  ADD CONSTRAINT "Seat_hold_matches_status" CHECK (("status" = 'HELD') = ("holdId" IS NOT NULL));

ALTER TABLE "Booking" ADD CONSTRAINT "Booking_total_nonnegative" CHECK ("total" >= 0);
