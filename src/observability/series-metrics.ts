import type { Registry } from 'prom-client';

/**
 * Histograms and counters for the request path, registered in a prom-client
 * Registry and printed by it exactly as prom-client's own Histogram and
 * Counter print (test/series-metrics.test.ts compares the two texts).
 *
 * Why not prom-client's classes: every `observe(labels, value)` there checks
 * the label names, builds a string from the label values, looks it up in a
 * dictionary and finds the bucket through another one. A request observes
 * nine of them, which cost a tenth of the gateway's CPU for `{ __typename }`
 * (docs/performance.md, "Per-request cost, 2026-12-03 afternoon"). Here the caller asks once for
 * a series (a handle on one combination of label values) and keeps it, per
 * parsed document or per status; an observation is then a loop over the
 * bounds and three additions.
 */
export type LabelValues = Readonly<Record<string, string | number | undefined>>;

/** prom-client's default buckets (seconds), which the plugins this replaces used. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface FamilyOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  registry: Registry;
}

/** One series' values as prom-client's Registry formats them. */
interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  sharedLabels?: LabelValues;
}

interface Exported {
  name: string;
  help: string;
  type: 'histogram' | 'counter';
  values: ExportedValue[];
  aggregator: 'sum';
}

abstract class Family<S extends { labels: LabelValues }> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'histogram' | 'counter';
  readonly aggregator = 'sum' as const;
  readonly #labelNames: readonly string[];
  /** Keyed like prom-client's hash: only the label values that are present, in label-name order. */
  readonly #series = new Map<string, S>();

  constructor({ name, help, labelNames, registry }: FamilyOptions) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
    // The Registry's documented extension point: anything with a name and get() (prom-client's Metric).
    registry.registerMetric(this as never);
  }

  /** The series for these label values; keep it, and observe through it. */
  series(labels: LabelValues): S {
    let key = '';
    for (const name of this.#labelNames) {
      const value = labels[name];
      if (value !== undefined) key += `${name}:${value},`;
    }
    let series = this.#series.get(key);
    if (!series) {
      for (const name of Object.keys(labels)) {
        if (!this.#labelNames.includes(name)) throw new Error(`${this.name} has no label "${name}"`);
      }
      series = this.create({ ...labels });
      this.#series.set(key, series);
    }
    return series;
  }

  protected abstract create(labels: LabelValues): S;
  protected abstract export(series: S): ExportedValue[];

  /** What the Registry prints (prom-client calls this before get() when present). */
  async getForPromString(): Promise<Exported> {
    const values: ExportedValue[] = [];
    // A series prints from its first observation, as prom-client's do: a caller may resolve series it never
    // observes through (the subscribe phase of a query's document).
    for (const series of this.#series.values()) if (this.observed(series)) values.push(...this.export(series));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (Registry.getMetricsAsJSON): shared labels merged into each value's, as prom-client does. */
  async get(): Promise<Exported> {
    const exported = await this.getForPromString();
    exported.values = exported.values.map(({ sharedLabels, ...value }) => ({
      ...value,
      labels: { ...(sharedLabels as Record<string, string | number>), ...value.labels },
    }));
    return exported;
  }

  /** Registry.resetMetrics(): every series back to zero and unprinted until observed again, as prom-client's. */
  reset(): void {
    for (const series of this.#series.values()) this.zero(series);
  }

  protected abstract zero(series: S): void;
  protected abstract observed(series: S): boolean;
}

export class HistogramSeries {
  readonly labels: LabelValues;
  /** Observations per bucket (not cumulative); index bounds.length counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(labels: LabelValues, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // prom-client throws on a non-finite value; a metric must never fail a request.
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index += 1;
    this.counts[index]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class SeriesHistogram extends Family<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly #buckets: readonly number[];

  constructor(options: FamilyOptions & { buckets?: readonly number[] }) {
    super(options);
    this.#buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
  }

  protected create(labels: LabelValues): HistogramSeries {
    return new HistogramSeries(labels, this.#buckets);
  }

  protected observed(series: HistogramSeries): boolean {
    return series.count > 0;
  }

  protected zero(series: HistogramSeries): void {
    series.counts.fill(0);
    series.sum = 0;
    series.count = 0;
  }

  protected export(series: HistogramSeries): ExportedValue[] {
    const bucketName = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    let cumulative = 0;
    this.#buckets.forEach((bound, index) => {
      cumulative += series.counts[index]!;
      values.push({ labels: { le: bound }, value: cumulative, metricName: bucketName, sharedLabels: series.labels });
    });
    values.push(
      { labels: { le: '+Inf' }, value: series.count, metricName: bucketName, sharedLabels: series.labels },
      { labels: {}, value: series.sum, metricName: `${this.name}_sum`, sharedLabels: series.labels },
      { labels: {}, value: series.count, metricName: `${this.name}_count`, sharedLabels: series.labels },
    );
    return values;
  }
}

export class CounterSeries {
  readonly labels: LabelValues;
  value = 0;
  /** Printed once inc() was called, even by 0 (prom-client's rule). */
  incremented = false;

  constructor(labels: LabelValues) {
    this.labels = labels;
  }

  inc(by = 1): void {
    if (!Number.isFinite(by) || by < 0) return;
    this.value += by;
    this.incremented = true;
  }
}

export class SeriesCounter extends Family<CounterSeries> {
  readonly type = 'counter' as const;

  protected create(labels: LabelValues): CounterSeries {
    return new CounterSeries(labels);
  }

  protected observed(series: CounterSeries): boolean {
    return series.incremented;
  }

  protected zero(series: CounterSeries): void {
    series.incremented = false;
    series.value = 0;
  }

  protected export(series: CounterSeries): ExportedValue[] {
    return [{ labels: { ...(series.labels as Record<string, string | number>) }, value: series.value }];
  }
}
