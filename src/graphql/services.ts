// Services handed to resolvers through the context. Created once at start-up in the composition root.
import type { AccountService } from '../accounts/account-service.ts';
import type { AuditLog } from '../accounts/audit.ts';
import type { SessionService } from '../accounts/sessions.ts';
import type { StaffService } from '../accounts/staff-service.ts';
import type { PasswordResetService } from '../accounts/password-reset.ts';
import type { SelfService } from '../accounts/self-service.ts';
import type { TenantCache } from '../accounts/tenant-cache.ts';
import type { ProductService } from '../commerce/product-service.ts';
import type { WishlistService } from '../commerce/wishlist-service.ts';
import type { CacheWarmer } from '../commerce/cache-warming.ts';
import type { CartStore } from '../commerce/cart-store.ts';
import type { CheckoutService } from '../commerce/checkout-service.ts';
import type { OrderService } from '../commerce/orders.ts';
import type { StockEvents } from '../commerce/stock-events.ts';
import type { Database } from '../db/prisma.ts';
import type { VenueEventService } from '../ticketing/venue-event-service.ts';
import type { Ticketing } from '../ticketing/ticketing.ts';
import type { EntityCache } from '../cache/entity-cache.ts';
import type { EventBus } from '../realtime/event-bus.ts';

export interface Services {
  bus: EventBus;
  accounts: AccountService;
  audit: AuditLog;
  sessions: SessionService;
  staff: StaffService;
  passwordResets: PasswordResetService;
  selfService: SelfService;
  tenantCache: TenantCache;
  products: ProductService;
  wishlist: WishlistService;
  carts: CartStore;
  checkout: CheckoutService;
  orders: OrderService;
  warmer: CacheWarmer;
  /** Stock pushes to inventoryChanged subscribers (and their catch-up after a Redis outage). */
  stock: StockEvents;
  /** For admin reports that are one SQL query (lowStock). */
  db: Database;
  venues: VenueEventService;
  /** Holds, bookings and live seat maps. */
  ticketing: Ticketing;
  /** For admin views: cache statistics and purges. */
  cache: EntityCache;
  cacheMode: 'redis' | 'in-process';
}
