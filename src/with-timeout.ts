/** The rejection of withTimeout when it gives up waiting (unless the caller names its own). */
export class TimedOut extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimedOut';
  }
}

/**
 * `promise`, or a rejection with `timedOut()` once `ms` have passed without it. The work itself goes on (a renewal
 * in flight still fills its cache); only this wait ends.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  timedOut: () => Error = () => new TimedOut(ms),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
