import { InitialSchema1764100000000 } from './1764100000000-initial-schema';
import { Refunds1764200000000 } from './1764200000000-refunds';

/** Every migration, oldest first. Listed explicitly so ts-node, vitest and builds agree. */
export const migrations = [InitialSchema1764100000000, Refunds1764200000000];
