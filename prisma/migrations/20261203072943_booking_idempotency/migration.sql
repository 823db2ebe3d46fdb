-- AlterTable
ALTER TABLE "Booking" ADD COLUMN     "holdId" UUID,
ADD COLUMN     "idempotencyKey" VARCHAR(64) NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Booking_holdId_key" ON "Booking"("holdId");

-- CreateIndex
CREATE UNIQUE INDEX "Booking_userId_idempotencyKey_key" ON "Booking"("userId", "idempotencyKey");
