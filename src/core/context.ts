import type { Store } from '../store/store.js';

/** The store, settings and clock that every core operation needs. */
export interface CoreContext {
  store: Store;
  bcryptCost: number;
  issuer: string;
  /** The current time; tests pass a fixed one. */
  now: () => Date;
}
