// WORKERS=2 without Redis: the primary relays the bus and keeps the rate limits (test/server/workers-kit.ts).
import { describeWorkers } from './workers-kit.ts';

describeWorkers(false);
