// Stock: the topic of live stock updates. ProductService.setStock publishes on it after its commit, and
// inventoryChanged subscribers listen on it.

export function inventoryTopic(productId: number): string {
  return `inventory:${productId}`;
}
