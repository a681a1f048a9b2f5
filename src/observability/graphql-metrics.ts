import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, type Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './series-metrics.js';

/**
 * The request metrics `@graphql-yoga/plugin-prometheus` (over `@envelop/prometheus`) exported here, with the
 * same names, help texts, labels, buckets and points of measurement, and the /metrics endpoint, at a fraction
 * of the cost per request. With operation names off (their label values would come from clients), those
 * plugins rebuilt and filtered every label object generically and kept several maps and closures per request:
 * ~20 µs of CPU for `{ __typename }` and ~50 µs for a page of trips, out of 0.7–0.9 ms (docs/performance.md,
 * "Uncached path"). Here the series are resolved once per parsed document (yoga's parse cache hands out the
 * same DocumentNode for the same text) and observed through series-metrics.ts, without prom-client's
 * per-observation label work; a request carries one small state object.
 *
 * - graphql_envelop_phase_{parse,validate,context,execute,subscribe}{operationType}: time of each phase;
 * - graphql_envelop_request_duration{operationType}, graphql_envelop_request{operationType}: per operation
 *   (timed from the start of execute or subscribe, as the plugin does);
 * - graphql_envelop_error_result{operationType,path,phase}: errors of parse, validation, context and results;
 * - graphql_yoga_http_duration{operationName,operationType,method,statusCode}: the whole request, for
 *   requests that reached parsing; labels from `httpLabels`.
 */
export interface GraphQLMetricsOptions {
  registry: Registry;
  endpoint: string;
  /**
   * The HTTP histogram's labels (operation names are bounded by the caller). A function of its arguments
   * only: its series is kept per operation, method and status.
   */
  httpLabels: (params: {
    operationName: string | undefined;
    operationType: string | undefined;
    method: string;
    statusCode: number;
  }) => Record<'operationName' | 'operationType' | 'method' | 'statusCode', string | number>;
}

type TypeLabels = { operationType: string | undefined };

/** An operation type's series, resolved once per parsed document. */
interface OperationSeries {
  labels: TypeLabels;
  parse: HistogramSeries;
  validate: HistogramSeries;
  context: HistogramSeries;
  execute: HistogramSeries;
  subscribe: HistogramSeries;
  requestDuration: HistogramSeries;
  requests: CounterSeries;
}

interface HttpOperation {
  name?: string;
  type?: string;
  /** By method and status code. */
  series: Map<string, HistogramSeries>;
}

/** The plugin's documented help texts. */
const HELP = {
  parse: 'Time spent on running GraphQL "parse" function',
  validate: 'Time spent on running GraphQL "validate" function',
  context: 'Time spent on building the GraphQL context',
  execute: 'Time spent on running the GraphQL "execute" function',
  subscribe: 'Time spent on running the GraphQL "subscribe" function',
  requestDuration: 'Time spent on running the GraphQL operation from parse to execute',
  request: 'Counts the amount of GraphQL requests executed through Envelop',
  errors: 'Counts the amount of errors reported from all phases',
  http: 'Time spent on HTTP requests, by operation and status',
};

export function useGraphQLMetrics({ registry, endpoint, httpLabels }: GraphQLMetricsOptions): Plugin {
  const histogram = (name: string, help: string, labelNames: string[]) =>
    new SeriesHistogram({ name, help, labelNames, registry });
  const typeOnly = ['operationType'];
  const parse = histogram('graphql_envelop_phase_parse', HELP.parse, typeOnly);
  const validate = histogram('graphql_envelop_phase_validate', HELP.validate, typeOnly);
  const context = histogram('graphql_envelop_phase_context', HELP.context, typeOnly);
  const execute = histogram('graphql_envelop_phase_execute', HELP.execute, typeOnly);
  const subscribe = histogram('graphql_envelop_phase_subscribe', HELP.subscribe, typeOnly);
  const requestDuration = histogram('graphql_envelop_request_duration', HELP.requestDuration, typeOnly);
  const http = histogram('graphql_yoga_http_duration', HELP.http, [
    'operationName',
    'operationType',
    'method',
    'statusCode',
  ]);
  const requests = new SeriesCounter({
    name: 'graphql_envelop_request',
    help: HELP.request,
    labelNames: typeOnly,
    registry,
  });
  // Errors are rare: prom-client's own counter, whose labels (paths) are not known in advance.
  const errors = new Counter({
    name: 'graphql_envelop_error_result',
    help: HELP.errors,
    labelNames: ['operationType', 'path', 'phase'],
    registers: [registry],
  });

  const seriesOf = (labels: TypeLabels): OperationSeries => ({
    labels,
    parse: parse.series(labels),
    validate: validate.series(labels),
    context: context.series(labels),
    execute: execute.series(labels),
    subscribe: subscribe.series(labels),
    requestDuration: requestDuration.series(labels),
    requests: requests.series(labels),
  });
  // An absent value is an absent label to prom-client, as with the plugin.
  let noOperation: OperationSeries | undefined;
  /** `{ operationType }` of the document's first definition (where the plugins read it), once per document. */
  const seriesByDocument = new WeakMap<DocumentNode, OperationSeries>();
  const operationSeriesOf = (document: DocumentNode): OperationSeries => {
    let series = seriesByDocument.get(document);
    if (!series) {
      const first = document.definitions[0] as { operation?: string } | undefined;
      series = seriesOf(Object.freeze({ operationType: first?.operation }));
      seriesByDocument.set(document, series);
    }
    return series;
  };
  /** The HTTP histogram's operation, per document and operation name (getOperationAST, as yoga's plugin). */
  const httpOperations = new WeakMap<DocumentNode, Map<string, HttpOperation>>();
  const httpOperationOf = (document: DocumentNode, operationName: string | undefined): HttpOperation => {
    let byName = httpOperations.get(document);
    if (!byName) {
      byName = new Map();
      httpOperations.set(document, byName);
    }
    const key = operationName ?? '';
    let operation = byName.get(key);
    if (!operation) {
      const ast = getOperationAST(document, operationName);
      operation = { name: ast?.name?.value, type: ast?.operation, series: new Map() };
      // Names come from clients: only remember what this document defines.
      if (ast || byName.size < 10) byName.set(key, operation);
    }
    return operation;
  };
  const httpSeriesOf = (operation: HttpOperation, method: string, statusCode: number): HistogramSeries => {
    const key = `${method} ${statusCode}`;
    let series = operation.series.get(key);
    if (!series) {
      series = http.series(
        httpLabels({ operationName: operation.name, operationType: operation.type, method, statusCode }),
      );
      operation.series.set(key, series);
    }
    return series;
  };

  const operations = new WeakMap<object, OperationSeries>();
  const started = new WeakMap<Request, number>();
  const httpOperation = new WeakMap<Request, HttpOperation>();

  // Absent values stay in the label object (prom-client prints them as "undefined"), as the plugins did.
  const countError = (labels: TypeLabels | undefined, phase: string | undefined, error?: GraphQLError) => {
    const value = { operationType: labels?.operationType, phase } as Record<string, string>;
    if (error?.path) value.path = error.path.join('.');
    errors.inc(value);
  };
  const countResultErrors = (labels: TypeLabels, result: ExecutionResult) => {
    for (const error of result.errors ?? []) countError(labels, 'execute', error);
  };

  return {
    onPluginInit({ registerContextErrorHandler }) {
      registerContextErrorHandler(({ context: ctx, error }) => {
        countError(operations.get(ctx)?.labels, 'context', error as GraphQLError);
      });
    },
    onRequest({ request, url, fetchAPI, endResponse }) {
      if (url.pathname === endpoint) {
        return registry.metrics().then((text) => {
          endResponse(new fetchAPI.Response(text, { headers: { 'Content-Type': registry.contentType } }));
        });
      }
      started.set(request, Date.now());
      return undefined;
    },
    onParse({ context: ctx }) {
      const start = Date.now();
      return ({ result }) => {
        const elapsed = (Date.now() - start) / 1000;
        if (result === null || result instanceof Error) {
          operations.delete(ctx);
          noOperation ??= seriesOf(Object.freeze({ operationType: undefined }));
          noOperation.parse.observe(elapsed);
          countError(undefined, 'parse', result ?? undefined);
          return;
        }
        const series = operationSeriesOf(result);
        operations.set(ctx, series);
        series.parse.observe(elapsed);
        const request = (ctx as { request?: Request }).request;
        if (request) {
          const name = (ctx as { params?: { operationName?: string | null } }).params?.operationName ?? undefined;
          httpOperation.set(request, httpOperationOf(result, name));
        }
      };
    },
    onValidate({ context: ctx }) {
      const state = operations.get(ctx);
      if (!state) return undefined;
      const start = Date.now();
      return ({ valid }) => {
        state.validate.observe((Date.now() - start) / 1000);
        if (!valid) countError(state.labels, 'validate');
      };
    },
    onContextBuilding({ context: ctx }) {
      const state = operations.get(ctx);
      if (state) state.context.observe(0);
    },
    onExecute({ args }) {
      const state = operations.get(args.contextValue);
      if (!state) return undefined;
      const start = Date.now();
      const end = () => {
        const elapsed = (Date.now() - start) / 1000;
        state.execute.observe(elapsed);
        state.requestDuration.observe(elapsed);
        state.requests.inc();
      };
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) {
            return { onNext: ({ result: item }) => countResultErrors(state.labels, item), onEnd: end };
          }
          countResultErrors(state.labels, result);
          end();
          return undefined;
        },
      };
    },
    onSubscribe({ args }) {
      const state = operations.get(args.contextValue);
      if (!state) return undefined;
      const start = Date.now();
      const end = () => {
        const elapsed = (Date.now() - start) / 1000;
        state.subscribe.observe(elapsed);
        state.requestDuration.observe(elapsed);
        state.requests.inc();
      };
      return {
        onSubscribeResult({ result }) {
          if (isAsyncIterable(result)) {
            return { onNext: ({ result: item }) => countResultErrors(state.labels, item), onEnd: end };
          }
          countResultErrors(state.labels, result);
          end();
          return undefined;
        },
        onSubscribeError() {
          countError(state.labels, undefined);
        },
      };
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      const operation = httpOperation.get(request);
      if (start === undefined || !operation) return;
      httpSeriesOf(operation, request.method, response.status).observe((Date.now() - start) / 1000);
    },
  };
}
