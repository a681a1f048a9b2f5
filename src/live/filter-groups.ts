/**
 * A feed's live subscribers, grouped by filter. A feed reads each tick's rows
 * once and filters them once per group, not once per subscriber: the fan-out to
 * ten thousand streams with a handful of distinct filters costs a handful of
 * filter passes. Shared by the exact change feed (change-feed.ts) and the key
 * high-water mark fallback (trip-feed.ts).
 */

/** Subscribers served per turn of the event loop during a fan-out. */
export const DELIVERY_SLICE = 500;

export interface FilterGroup<S> {
  readonly subscribers: Set<S>;
}

export class FilterGroups<S extends { readonly filterKey: string }, G extends FilterGroup<S>> {
  private readonly groups = new Map<string, G>();
  private count = 0;

  /** `create` makes the group a subscriber with a new filter key starts (its matcher, its kind). */
  constructor(private readonly create: (first: S) => G) {}

  /** Live subscribers, in every group. */
  get live(): number {
    return this.count;
  }

  /** Distinct filters among them. */
  get size(): number {
    return this.groups.size;
  }

  add(subscriber: S): void {
    let group = this.groups.get(subscriber.filterKey);
    if (!group) {
      group = this.create(subscriber);
      this.groups.set(subscriber.filterKey, group);
    }
    group.subscribers.add(subscriber);
    this.count += 1;
  }

  /** Whether it was live; a group left empty is dropped. */
  delete(subscriber: S): boolean {
    const group = this.groups.get(subscriber.filterKey);
    if (!group?.subscribers.delete(subscriber)) return false;
    this.count -= 1;
    if (group.subscribers.size === 0) this.groups.delete(subscriber.filterKey);
    return true;
  }

  /** Every live subscriber, copied: callers end streams while they go through it. */
  subscribers(): S[] {
    return [...this.groups.values()].flatMap((group) => [...group.subscribers]);
  }

  /**
   * Offers one read to every live subscriber: `view` once per group (its
   * filter applied), then `offer` per subscriber, in slices of DELIVERY_SLICE
   * subscribers with a turn of the event loop between them. Each slice's events
   * reach the sockets while the next is prepared, and a fan-out to ten thousand
   * streams never blocks other requests for its whole duration. Groups and
   * their members are copied first: a subscriber may leave (or a new one join)
   * during a turn, and one that joins is covered by its own position.
   */
  async fanOut<V>(view: (group: G) => V, offer: (subscriber: S, view: V) => void): Promise<void> {
    let budget = DELIVERY_SLICE;
    for (const group of [...this.groups.values()]) {
      const shared = view(group);
      for (const subscriber of [...group.subscribers]) {
        offer(subscriber, shared);
        if (--budget === 0) {
          budget = DELIVERY_SLICE;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
  }
}

/** Calls `onChange` when a feed gains its first subscriber (true) or loses its last (false). */
export class ActivitySignal {
  private active = false;

  constructor(private readonly onChange: ((active: boolean) => void) | undefined) {}

  update(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.onChange?.(active);
  }
}
