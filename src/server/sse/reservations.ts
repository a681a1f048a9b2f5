/**
 * graphql-sse's single-connection streams (`PUT /graphql/stream` reserves a
 * token, a GET with the token opens its event stream), as the gateway bounds
 * them: per client, and in time while unopened.
 *
 * - A client holds at most `maxPerClient` tokens, opened or not: each costs
 *   graphql-sse a stream with an unbounded event queue, and once opened a
 *   connection, so one client reserving thousands would take what the others
 *   need. A token is held from its reservation until its stream closes or the
 *   reservation expires.
 * - A reservation not opened within `ttlMs` is dropped (graphql-sse never
 *   drops one on its own, and queues every event of the operations sent to it
 *   meanwhile).
 * - Until it is opened, a reservation takes at most MAX_OPERATIONS_UNOPENED
 *   operations: graphql-sse runs each at once and keeps its results until the
 *   stream opens, so a client that never opened it (two reservations of
 *   hundreds of 4 MB answers) held gigabytes for the whole `ttlMs`.
 */
export const MAX_OPERATIONS_UNOPENED = 16;

export class StreamReservations {
  private readonly holders = new Map<
    string,
    { client: string; expiry?: NodeJS.Timeout; opened?: boolean; operations: number }
  >();
  private readonly heldBy = new Map<string, number>();

  constructor(
    private readonly options: {
      maxPerClient: number;
      ttlMs: number;
      /** Makes graphql-sse forget an expired reservation and end its operations. */
      drop: (token: string) => void;
    },
  ) {}

  /** How many tokens `client` holds when it is at its bound (refuse it), else undefined. */
  refusal(client: string): number | undefined {
    const held = this.heldBy.get(client) ?? 0;
    return held >= this.options.maxPerClient ? held : undefined;
  }

  /** A new reservation: held by `client` until its stream closes, or until `ttlMs` passes unopened. */
  reserved(token: string, client: string): void {
    this.release(token);
    this.holders.set(token, { client, operations: 0 });
    this.heldBy.set(client, (this.heldBy.get(client) ?? 0) + 1);
    this.arm(token);
  }

  /**
   * A request to open `token`'s stream is being answered: its expiry is
   * stopped until `opened` says whether it was. True when the token is an
   * unopened reservation.
   */
  opening(token: string): boolean {
    const holder = this.holders.get(token);
    if (!holder?.expiry) return false;
    clearTimeout(holder.expiry);
    holder.expiry = undefined;
    return true;
  }

  /**
   * Whether the stream `opening` announced was opened. An opened one is held
   * until `closed` says it ended; one that was not (refused, a wrong Accept) is
   * still an unopened reservation and expires as before.
   */
  opened(token: string, opened: boolean): void {
    if (!opened) this.arm(token);
    else {
      const holder = this.holders.get(token);
      if (holder) holder.opened = true;
    }
  }

  /** Whether one more operation may be sent to `token`: always once its stream is open, a few until then. */
  admitsOperation(token: string): boolean {
    const holder = this.holders.get(token);
    if (!holder || holder.opened) return true;
    holder.operations += 1;
    return holder.operations <= MAX_OPERATIONS_UNOPENED;
  }

  /** The stream of `token` ended: its client's slot is free. */
  closed(token: string): void {
    this.release(token);
  }

  private arm(token: string): void {
    const holder = this.holders.get(token);
    if (!holder) return;
    clearTimeout(holder.expiry);
    holder.expiry = setTimeout(() => {
      this.release(token);
      this.options.drop(token);
    }, this.options.ttlMs);
    holder.expiry.unref();
  }

  private release(token: string): void {
    const holder = this.holders.get(token);
    if (!holder) return;
    clearTimeout(holder.expiry);
    this.holders.delete(token);
    const count = (this.heldBy.get(holder.client) ?? 1) - 1;
    if (count <= 0) this.heldBy.delete(holder.client);
    else this.heldBy.set(holder.client, count);
  }
}
