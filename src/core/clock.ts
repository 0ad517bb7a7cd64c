/** Time is injected so that tests and replay are deterministic. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Milliseconds since the epoch. */
  wallNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

export function manualClock(start = 0): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    wallNow: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
