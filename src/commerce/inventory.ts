// Stock: topic names for live stock updates. (Reservations and stock writes arrive with the commerce issue.)

export function inventoryTopic(productId: number): string {
  return `inventory:${productId}`;
}
