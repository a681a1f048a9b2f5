import type { Cache } from '@envelop/response-cache';
import type { ExecutionResult } from 'graphql';
import { ByteLru } from './byte-lru.js';
import type { TableVersionTracker } from './table-version.js';

/**
 * Cache keys carry the table version they were computed under and the
 * caller's scope: `"<version tag>.<s|p>.<hash of document, operation,
 * variables, scope>"`. The quotes make the key a valid HTTP entity tag, which
 * is what the response cache plugin sends as ETag.
 */
const KEY = /^"([\w-]+)\.([sp])\.[^"]+"$/;

export function responseKey(versionTag: string, scoped: boolean, hash: string): string {
  return `"${versionTag}.${scoped ? 'p' : 's'}.${hash}"`;
}

/** The version tag in a key; null for anything else (e.g. an If-None-Match a client made up). */
export function versionTagOf(key: string): string | null {
  return KEY.exec(key)?.[1] ?? null;
}

/** Whether a key belongs to one caller's scope (the answer may differ per caller: no shared HTTP caches). */
export function isScopedKey(key: string): boolean {
  return KEY.exec(key)?.[2] === 'p';
}

/** A bound on what one entry costs besides its JSON: the key, the headers, the objects holding them. */
const ENTRY_OVERHEAD_BYTES = 256;

/** How long a request waits for another one computing the same answer before it computes it itself. */
const COMPUTATION_WAIT_MS = 5_000;

export interface ResponseStoreStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  evictions: number;
  /** Answers not stored because the table changed while they were computed. */
  discarded: number;
  /** Lookups answered from the store since start (including If-None-Match checks). */
  hits: number;
}

/**
 * The response cache's store (the `Cache` of @envelop/response-cache):
 * - an entry is served only while its version tag is the table's latest
 *   version (read after the request arrived: see response-cache.ts), so an
 *   answer from an older table state is unreachable at once;
 * - an answer is stored only if the version read *after* it was computed is
 *   still the one its key was built with (read before it was computed): no
 *   write committed in between, so every statement it ran saw that table
 *   state. An answer overtaken by a write is simply not stored;
 * - entries hold the serialized answer, not the object tree: the bound is in
 *   real bytes, and a hit costs no JSON.stringify.
 */
export class ResponseStore implements Cache {
  readonly #lru: ByteLru<ExecutionResult>;
  readonly #versions: TableVersionTracker;
  #discarded = 0;
  #hits = 0;
  readonly #computing = new Map<
    string,
    {
      promise: Promise<void>;
      settle: () => void;
      timer: NodeJS.Timeout;
      owner: object;
      /** The answer is being stored (set): it settles when that ends, not when its request is answered. */
      storing: boolean;
    }
  >();

  constructor(versions: TableVersionTracker, maxBytes: number) {
    this.#versions = versions;
    this.#lru = new ByteLru(maxBytes);
    // Entries of other versions can never be served again.
    versions.onChange(() => this.#lru.clear());
  }

  get stats(): ResponseStoreStats {
    return {
      entries: this.#lru.size,
      bytes: this.#lru.bytes,
      maxBytes: this.#lru.maxBytes,
      evictions: this.#lru.evictions,
      discarded: this.#discarded,
      hits: this.#hits,
    };
  }

  /**
   * Coalesces misses: when no current entry answers `key` and another request is already computing it, the
   * promise resolves once that answer is stored (then `get` hits) or given up (then the caller computes it
   * too). Undefined: no wait; if there is no entry, the caller is now the one computing `key`. Without this,
   * every request arriving between a sync and the first stored answer runs the same statements, and under
   * load answers take longer than syncs are apart, so none is ever stored.
   */
  awaitComputation(key: string, owner: object): Promise<void> | undefined {
    const tag = versionTagOf(key);
    if (tag === null || tag !== this.#versions.latest.tag || this.#lru.has(key)) return undefined;
    const running = this.#computing.get(key);
    if (running) return running.promise;
    let settle!: () => void;
    const promise = new Promise<void>((resolve) => (settle = resolve));
    // A backstop only: release() ends every claim when its request is answered, stored or not.
    const timer = setTimeout(() => this.settle(key), COMPUTATION_WAIT_MS);
    timer.unref();
    this.#computing.set(key, { promise, settle, timer, owner, storing: false });
    return undefined;
  }

  /** The answer for `key` was stored, or will not be: requests waiting on it go on. */
  settle(key: string): void {
    const running = this.#computing.get(key);
    if (!running) return;
    this.#computing.delete(key);
    clearTimeout(running.timer);
    running.settle();
  }

  /**
   * `owner`'s request has been answered: if its claim on `key` is still open, the answer will never be
   * stored (refused before execution: a document limit, the query cost, a list variable, a validation
   * error), so the requests waiting on it go on now instead of after COMPUTATION_WAIT_MS.
   */
  release(key: string, owner: object): void {
    const running = this.#computing.get(key);
    if (running?.owner === owner && !running.storing) this.settle(key);
  }

  /** Keys being computed right now (tests). */
  get computing(): number {
    return this.#computing.size;
  }

  get(key: string): ExecutionResult | undefined {
    const tag = versionTagOf(key);
    if (tag === null || tag !== this.#versions.latest.tag) return undefined;
    const entry = this.#lru.get(key);
    if (entry) this.#hits += 1;
    return entry;
  }

  set(key: string, result: ExecutionResult): Promise<void> | undefined {
    const tag = versionTagOf(key);
    if (tag === null) return undefined;
    // Storing checks the version again, asynchronously: the request may be answered before it ends.
    const running = this.#computing.get(key);
    if (running) running.storing = true;
    const stored = this.#store(key, tag, result);
    if (!stored) {
      this.settle(key);
      return undefined;
    }
    return stored.finally(() => this.settle(key));
  }

  #store(key: string, tag: string, result: ExecutionResult): Promise<void> | undefined {
    const { http, ...extensions } = result.extensions ?? {};
    const json = JSON.stringify({
      ...result,
      extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
    });
    const bytes = Buffer.byteLength(json) + key.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#lru.maxBytes) return undefined;
    const entry = serializedResult(json, http);
    return this.#versions.fresh().then((version) => {
      if (version.tag === tag) this.#lru.set(key, entry, bytes);
      else this.#discarded += 1;
    });
  }

  /** Entities are not tracked: every write changes the version, which drops all entries at once. */
  invalidate(): void {}

  clear(): void {
    this.#lru.clear();
  }
}

/**
 * An ExecutionResult whose serialization is done: yoga calls a result's own
 * `stringify` when it has one. `data` is parsed only if something asks for it
 * (nothing on the way out does); it is not enumerable, so the copies yoga and
 * the plugin make on the way out do not parse it either.
 */
function serializedResult(json: string, http: unknown): ExecutionResult {
  const result = { extensions: http === undefined ? undefined : { http }, stringify: () => json };
  let data: unknown;
  Object.defineProperty(result, 'data', {
    enumerable: false,
    get: () => (data ??= (JSON.parse(json) as ExecutionResult).data),
  });
  return result as ExecutionResult;
}
