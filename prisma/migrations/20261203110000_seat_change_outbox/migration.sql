-- CreateTable
CREATE TABLE "SeatChangeOutbox" (
    "id" BIGSERIAL NOT NULL,
    "eventId" UUID NOT NULL,
    "seatIds" UUID[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SeatChangeOutbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SeatChangeOutbox_eventId_idx" ON "SeatChangeOutbox"("eventId");

-- CreateIndex
CREATE INDEX "SeatChangeOutbox_createdAt_idx" ON "SeatChangeOutbox"("createdAt");

-- Hand-written (outside Prisma's schema language): every statement that changes seat statuses records the
-- changed seats in the outbox in the writer's own transaction, so a change that commits is never lost with
-- the process that was to publish it (docs/ARCHITECTURE.md, "Seat-change outbox"). One row per statement
-- and event, whoever the writer is.
CREATE OR REPLACE FUNCTION cachegate_seat_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "SeatChangeOutbox" ("eventId", "seatIds")
  SELECT n."eventId", array_agg(n.id)
  FROM changed_new n JOIN changed_old o ON o.id = n.id
  WHERE n.status IS DISTINCT FROM o.status
  GROUP BY n."eventId";
  RETURN NULL;
END
$$;

CREATE TRIGGER "Seat_change_outbox" AFTER UPDATE ON "Seat"
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
  FOR EACH STATEMENT EXECUTE FUNCTION cachegate_seat_outbox();
