import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from '../src/observability/series-metrics.js';

/**
 * series-metrics.ts replaces prom-client's Histogram and Counter on the request path. Dashboards and alerts
 * read the exposition text, so the same observations must print the same text through the Registry as
 * prom-client's own classes print.
 */
const OBSERVATIONS: [Record<string, string | number | undefined>, number][] = [
  [{ operationType: 'query' }, 0.0004],
  [{ operationType: 'query' }, 0.005], // on a bound: counted in that bucket (le is inclusive)
  [{ operationType: 'query' }, 0.3],
  [{ operationType: 'mutation' }, 12], // above every bound: +Inf only
  [{ operationType: undefined }, 0.02], // an absent value, as a parse error has
  [{ operationType: 'query' }, 0],
];

describe('series metrics print as prom-client prints', () => {
  it('histograms: buckets, sum and count per series, default and custom buckets', async () => {
    for (const buckets of [undefined, [0.001, 0.01, 0.1, 1]]) {
      const theirs = new Registry();
      const ours = new Registry();
      const reference = new Histogram({
        name: 'h',
        help: 'help "text"',
        labelNames: ['operationType'],
        registers: [theirs],
        ...(buckets ? { buckets } : {}),
      });
      const fast = new SeriesHistogram({
        name: 'h',
        help: 'help "text"',
        labelNames: ['operationType'],
        buckets,
        registry: ours,
      });
      for (const [labels, value] of OBSERVATIONS) {
        reference.observe(labels as Record<string, string>, value);
        fast.series(labels).observe(value);
      }
      const text = await ours.metrics();
      expect(text).toBe(await theirs.metrics());
      expect(text).toContain('h_bucket{le="+Inf",operationType="mutation"} 1');
      // JSON too, less prom-client's `exemplar: null` on every value (exemplars are off).
      const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
        metrics.map((metric) => ({
          ...metric,
          values: metric.values.map((value) => {
            const { exemplar: _exemplar, ...rest } = value as typeof value & { exemplar?: unknown };
            return rest;
          }),
        }));
      expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(
        withoutExemplars(await theirs.getMetricsAsJSON()),
      );
    }
  });

  it('several labels, numbers as label values, and a handle kept across observations', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const names = ['operationName', 'operationType', 'method', 'statusCode'];
    const reference = new Histogram({ name: 'http', help: 'x', labelNames: names, registers: [theirs] });
    const fast = new SeriesHistogram({ name: 'http', help: 'x', labelNames: names, registry: ours });
    const labels = { operationName: 'Latest', operationType: 'query', method: 'POST', statusCode: 200 };
    const kept = fast.series(labels);
    for (const value of [0.001, 0.002, 0.07]) {
      reference.observe(labels, value);
      kept.observe(value);
    }
    reference.observe({ ...labels, statusCode: 400 }, 0.001);
    fast.series({ ...labels, statusCode: 400 }).observe(0.001);
    expect(fast.series({ ...labels })).toBe(kept);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('counters, and resetMetrics() zeroes what callers hold', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'c', help: 'x', labelNames: ['status'], registers: [theirs] });
    const fast = new SeriesCounter({ name: 'c', help: 'x', labelNames: ['status'], registry: ours });
    const ok = fast.series({ status: '200' });
    for (let i = 0; i < 3; i += 1) {
      reference.inc({ status: '200' });
      ok.inc();
    }
    reference.inc({ status: '429' }, 2);
    fast.series({ status: '429' }).inc(2);
    expect(await ours.metrics()).toBe(await theirs.metrics());

    // After a reset both print only what is observed again, though callers keep their handles.
    ours.resetMetrics();
    theirs.resetMetrics();
    ok.inc();
    reference.inc({ status: '200' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('c{status="200"} 1\n');
    expect(await ours.metrics()).not.toContain('429');
  });

  it('a series resolved but never observed is not printed, as prom-client has no such series', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'h', help: 'x', labelNames: ['operationType'], registers: [theirs] });
    const fast = new SeriesHistogram({ name: 'h', help: 'x', labelNames: ['operationType'], registry: ours });
    const counter = new SeriesCounter({ name: 'c', help: 'x', labelNames: ['operationType'], registry: ours });
    new Counter({ name: 'c', help: 'x', labelNames: ['operationType'], registers: [theirs] });
    fast.series({ operationType: 'subscription' });
    counter.series({ operationType: 'query' });
    fast.series({ operationType: 'query' }).observe(0.01);
    reference.observe({ operationType: 'query' }, 0.01);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('subscription');
  });

  it('a label the family does not have is refused; a non-finite value is dropped, not thrown', async () => {
    const registry = new Registry();
    const fast = new SeriesHistogram({ name: 'h', help: 'x', labelNames: ['operationType'], registry });
    expect(() => fast.series({ operationTyp: 'query' })).toThrow('h has no label "operationTyp"');
    const series = fast.series({ operationType: 'query' });
    series.observe(Number.NaN);
    series.observe(0.1);
    expect(series.count).toBe(1);
    expect(await registry.metrics()).toContain('h_count{operationType="query"} 1');
  });
});
