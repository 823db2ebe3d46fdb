// WORKERS=2 with Redis: the workers share it as separate instances do (test/server/workers-kit.ts).
import { describeWorkers } from './workers-kit.ts';

describeWorkers(true);
