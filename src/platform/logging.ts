// Structured logging: one line per event, "<event> <json fields>", always redacted, always correlated.
// Application Insights stores the line in traces.message; queries split it with parse_json().
import { redact } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogSink = (level: LogLevel, line: string) => void;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Errors become {name, message, code}; stacks stay out of telemetry fields (they can echo request data). */
function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function formatLine(event: string, fields: LogFields): string {
  const json = JSON.stringify(fields, (_k, v) => serialise(v));
  return redact(json === '{}' ? event : `${event} ${json}`);
}

export function createLogger(sink: LogSink, base: LogFields = {}): Logger {
  const write =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}) =>
      sink(level, formatLine(event, { ...base, ...fields }));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}

export const consoleSink: LogSink = (level, line) => {
  const stamp = new Date().toISOString();
  (level === 'error' ? console.error : level === 'warn' ? console.warn : console.log)(`${stamp} ${level} ${line}`);
};

/** Sink over an InvocationContext, so lines reach the host (and Application Insights) under the function. */
export function invocationSink(context: {
  debug(...a: unknown[]): void;
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
}): LogSink {
  return (level, line) => context[level](line);
}

/** The trace id of a W3C traceparent ("00-<trace>-<span>-<flags>"), the correlation id of the whole request. */
export function traceIdOf(traceparent: string | undefined | null): string | undefined {
  const m = traceparent ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent.trim()) : null;
  return m && !/^0+$/.test(m[1]!) ? m[1] : undefined;
}

/** For callers that pass no logger (the use cases accept one per call). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
