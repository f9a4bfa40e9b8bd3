// Shared by the benchmarks: run a fixed number of calls with a fixed number in flight.

/** Runs `total` calls, `inFlight` at a time; returns the elapsed seconds. */
export async function timed(total: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) await call(next++);
  }));
  return (performance.now() - started) / 1000;
}

/** Calls per second of `timed`. */
export async function rate(total: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  return Math.round(total / await timed(total, inFlight, call));
}
