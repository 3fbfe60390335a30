import { pino, stdTimeFunctions, type Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries these fields (a request's id). */
  child(bindings: Record<string, unknown>): Logger;
}

/** Structured JSON lines on stdout. Callers never pass secrets, keys or request bodies. */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const root = pino(
    {
      level,
      base: null,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: serialize },
    },
    // A plain synchronous write, as before: no line is lost when a process exits right after it.
    { write },
  );
  return new PinoLogger(root);
}

/**
 * One per request (the context's logger), so its methods live on the prototype: closures made
 * per request were a share of every read's garbage. The pino child is made on its first line:
 * pino's child() costs ~20 µs, and most requests write no line.
 */
class PinoLogger implements Logger {
  private made: Pino | undefined;

  constructor(
    private readonly root: Pino,
    private readonly parent?: PinoLogger,
    private readonly bindings?: Record<string, unknown>,
  ) {}

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new PinoLogger(this.root, this, bindings);
  }

  private pino(): Pino {
    this.made ??= this.parent ? this.parent.pino().child(this.bindings!) : this.root;
    return this.made;
  }

  private write(method: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> | undefined): void {
    if (!this.root.isLevelEnabled(method)) return;
    if (fields) this.pino()[method](fields, msg);
    else this.pino()[method](msg);
  }
}

function serialize(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? serializeError(value) : value;
  return out;
}

// drizzle's query errors end their message with the bound parameters (payload bodies, webhook
// URLs, hashes): the log keeps the SQL text, never the values.
const withoutParams = (text: string) => text.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [redacted]');

/** An error and its cause chain (where the driver's code and message are), parameters removed. */
function serializeError(error: Error, depth = 0): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: unknown }).cause;
  return {
    name: error.name,
    message: withoutParams(error.message),
    ...(code !== undefined ? { code } : {}),
    ...(depth === 0 && error.stack ? { stack: withoutParams(error.stack) } : {}),
    ...(cause instanceof Error && depth < 5 ? { cause: serializeError(cause, depth + 1) } : {}),
  };
}
