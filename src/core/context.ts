import type { Store } from '../store/store.js';

/** What every core operation needs: the store, settings and the clock. */
export interface CoreContext {
  store: Store;
  bcryptCost: number;
  issuer: string;
  /** The current time; tests pass a fixed one. */
  now: () => Date;
}
