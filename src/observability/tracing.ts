import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ConfigError } from '../config/variables.js';
import { errorMessage, redactSecrets } from '../errors.js';
import type { Logger } from '../logger.js';
import { RepeatedWarning } from './repeated-warning.js';
import type { StatementCounter } from '../db/database.js';

export interface Tracing {
  plugin: Plugin;
  /** Sends the spans still buffered (shutdown, tests). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Longest SQL text put on a span. */
const MAX_STATEMENT_CHARS = 2000;

type Env = Readonly<Record<string, string | undefined>>;

/** OTLP over gRPC (Databricks Apps' telemetry collector speaks it) or over HTTP (JSON), as the OTEL_* variables say. */
export type OtlpProtocol = 'grpc' | 'http';

const PROTOCOLS: Record<string, OtlpProtocol> = { grpc: 'grpc', 'http/json': 'http', 'http/protobuf': 'http' };

/**
 * The tracing settings, checked at startup like every other variable: a malformed endpoint or an unknown
 * protocol was silently accepted, and every span was lost. Undefined: tracing is off (no endpoint).
 * `http/protobuf` is sent as OTLP/HTTP with JSON, which OTLP/HTTP receivers accept on the same path.
 */
export function tracingSettings(env: Env): { endpoint: string; protocol: OtlpProtocol } | undefined {
  const endpoint = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT)?.trim();
  if (!endpoint) return undefined;
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
    throw new ConfigError(
      variable,
      `${JSON.stringify(redactSecrets(endpoint))} is not an http:// or https:// URL of an OTLP receiver`,
    );
  }
  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const named = (env[protocolVariable]?.trim() || 'http/protobuf').toLowerCase();
  const protocol = PROTOCOLS[named];
  if (!protocol) {
    throw new ConfigError(protocolVariable, `${JSON.stringify(named)} is not one of grpc, http/protobuf, http/json`);
  }
  return { endpoint, protocol };
}

/** The endpoint as logs may show it: a collector's credentials in the URL (`https://user:password@…`) hidden. */
export function loggableEndpoint(endpoint: string): string {
  return redactSecrets(endpoint);
}

/**
 * OpenTelemetry traces, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (the
 * exporter reads it and the other standard OTEL_* variables itself), over the
 * protocol OTEL_EXPORTER_OTLP_PROTOCOL names (tracingSettings). Each
 * GraphQL operation is a span; each SQL statement sent while it runs is a
 * child span, found through the active context (AsyncLocalStorage), so
 * DataLoader batches and the rollup's statements land under the operation
 * that caused them.
 */
export function createTracing(
  env: Env,
  statements: StatementCounter,
  logger: Pick<Logger, 'warn' | 'info'>,
  serviceName = 'lakebase-graphql',
): Tracing | undefined {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
  const exporter = reportingFailures(
    settings.protocol === 'grpc' ? new GrpcTraceExporter() : new HttpTraceExporter(),
    new RepeatedWarning(logger, 'tracing: spans could not be exported; they are dropped', EXPORT_WARNING_MS),
    loggableEndpoint(settings.endpoint),
  );
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Installs the AsyncLocalStorage context manager and the global tracer provider.
  provider.register();
  const tracer = provider.getTracer('lakebase-graphql');
  traceStatements(tracer, statements);
  return {
    plugin: tracingPlugin(tracer),
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      // Its last batch may fail like any other (reportingFailures has said so): that must not fail the shutdown.
      await provider.shutdown().catch(() => undefined);
      // The global provider and context manager outlive this gateway otherwise (tests start several).
      trace.disable();
      context.disable();
    },
  };
}

/** A collector that stays away is said once a minute, not once per batch of spans. */
const EXPORT_WARNING_MS = 60_000;

/**
 * OpenTelemetry's exporters drop a batch they cannot send without a word (its own diagnostics are off unless a
 * diag logger is installed): a wrong endpoint, a collector that refuses the credentials or is down lost every
 * span, and nothing said so.
 */
function reportingFailures(inner: SpanExporter, warning: RepeatedWarning, endpoint: string): SpanExporter {
  let lastFailureAt = 0;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0 (@opentelemetry/core, not a direct dependency).
        if (result.code === 0) {
          // Only after a quiet interval: a collector that refuses some batches (429, 413) and takes others made
          // the warning and this line alternate, a line per batch.
          if (Date.now() - lastFailureAt >= EXPORT_WARNING_MS)
            warning.clear('tracing: spans are exported again', { endpoint });
        } else {
          lastFailureAt = Date.now();
          warning.warn({ endpoint, spans: spans.length, error: result.error ? errorMessage(result.error) : 'failed' });
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

function traceStatements(tracer: Tracer, statements: StatementCounter): void {
  const previous = statements.onStatement;
  statements.onStatement = (ok, ms, sql) => {
    previous?.(ok, ms, sql);
    // Only under an operation: the live feed's and the rollup's background statements would be root spans.
    if (!trace.getSpan(context.active())) return;
    const end = Date.now();
    const span = tracer.startSpan('db.query', {
      kind: SpanKind.CLIENT,
      startTime: end - ms,
      attributes: { 'db.system': 'postgresql', 'db.statement': sql.slice(0, MAX_STATEMENT_CHARS) },
    });
    if (!ok) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  };
}

function tracingPlugin(tracer: Tracer): Plugin {
  return {
    instrumentation: {
      operation: (_payload, wrapped) => {
        const span = tracer.startSpan('graphql.operation', { kind: SpanKind.SERVER });
        const done = (error?: unknown) => {
          if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          span.end();
        };
        return context.with(trace.setSpan(context.active(), span), () => {
          try {
            const result = wrapped();
            if (isThenable(result)) {
              return Promise.resolve(result).then(
                () => done(),
                (error: unknown) => {
                  done(error);
                  throw error;
                },
              );
            }
            done();
            return result;
          } catch (error) {
            done(error);
            throw error;
          }
        });
      },
    },
    onExecute({ args }) {
      const span = trace.getSpan(context.active());
      const operation = getOperationAST(args.document, args.operationName);
      span?.updateName(`graphql.${operation?.operation ?? 'operation'} ${operation?.name?.value ?? 'Anonymous'}`);
      span?.setAttributes({
        'graphql.operation.name': operation?.name?.value ?? 'Anonymous',
        'graphql.operation.type': operation?.operation ?? 'unknown',
      });
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<void> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
