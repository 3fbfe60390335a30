import { z } from 'zod';

const bool = (name: string) =>
  z.string().transform((value, ctx) => {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: `${name} must be true or false, got "${value}"` });
    return z.NEVER;
  });

const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER, what = 'an integer') =>
  z.string().transform((value, ctx) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be ${what} (${min}–${max}), got "${value}"` });
      return z.NEVER;
    }
    return n;
  });

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "1m", "30s", "500ms" or a bare number of milliseconds. */
function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

const duration = (name: string) =>
  z.string().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a duration such as 1m, 30s or 500ms, got "${value}"` });
      return z.NEVER;
    }
    return ms;
  });

/** `field=max/window` pairs, comma-separated: `register=20/1h,sendTestWebhook=10/1m`. */
const fieldBudgets = (name: string) =>
  z.string().transform((value, ctx) => {
    const budgets: Record<string, { max: number; windowMs: number }> = {};
    for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
      const m = /^([_A-Za-z][_0-9A-Za-z]*)\s*=\s*(\d+)\s*\/\s*(\S+)$/.exec(entry);
      const max = Number(m?.[2]);
      const windowMs = m ? parseDuration(m[3]!) : undefined;
      if (!m || !Number.isSafeInteger(max) || max < 1 || windowMs === undefined) {
        ctx.addIssue({ code: 'custom', message: `${name} entries look like field=max/window (register=20/1h), got "${entry}"` });
        return z.NEVER;
      }
      budgets[m[1]!] = { max, windowMs };
    }
    return budgets;
  });

const url = (name: string, protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `${name} must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL` },
  );

/** `*` (any origin, the default), `none`, or a comma-separated list of exact origins. */
const corsOrigins = (name: string) =>
  z.string().transform((value, ctx): '*' | 'none' | string[] => {
    const v = value.trim();
    if (v === '*' || v === 'none') return v;
    const origins = v.split(',').map((o) => o.trim()).filter(Boolean);
    for (const origin of origins) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {}
      if (!parsed || parsed.origin !== origin) {
        ctx.addIssue({ code: 'custom', message: `${name} must be *, none, or origins such as https://app.example.com (no path or trailing slash), got "${origin}"` });
        return z.NEVER;
      }
    }
    return origins.length ? origins : 'none';
  });

const encryptionKey = (name: string) =>
  z.string().refine((value) => Buffer.from(value, 'base64').length === 32, {
    message: `${name} must be 32 bytes encoded as base64 (openssl rand -base64 32)`,
  });

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int('PORT', 0, 65535, 'a port number').default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: optional(url('DATABASE_URL', ['postgres:', 'postgresql:'])),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_REQUEST_TIMEOUT_MS: int('DATABASE_REQUEST_TIMEOUT_MS', 100, 60_000).default(1500),
  ADMIN_API_KEY: optional(z.string().min(16, { message: 'ADMIN_API_KEY must be at least 16 characters' })),
  SECRET_ENCRYPTION_KEY: optional(encryptionKey('SECRET_ENCRYPTION_KEY')),
  SECRET_ENCRYPTION_KEY_PREVIOUS: optional(encryptionKey('SECRET_ENCRYPTION_KEY_PREVIOUS')),
  WEBHOOK_MAX_DELIVERIES: int('WEBHOOK_MAX_DELIVERIES', 1, 10_000).default(50),
  WEBHOOK_MAX_ATTEMPTS: int('WEBHOOK_MAX_ATTEMPTS', 1, 20).default(3),
  WEBHOOK_RETRY_BASE_MS: int('WEBHOOK_RETRY_BASE_MS', 0, 3_600_000).default(1000),
  WEBHOOK_TIMEOUT_MS: int('WEBHOOK_TIMEOUT_MS', 1, 120_000).default(10_000),
  WEBHOOK_RETRY_AFTER_MAX_MS: int('WEBHOOK_RETRY_AFTER_MAX_MS', 0, 86_400_000).default(3_600_000),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: optional(bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS')),
  WEBHOOK_DISABLE_AFTER_FAILURES: int('WEBHOOK_DISABLE_AFTER_FAILURES', 1, 1_000_000).default(20),
  WEBHOOK_DISABLE_AFTER: duration('WEBHOOK_DISABLE_AFTER').default(86_400_000),
  DELIVERY_WORKER: bool('DELIVERY_WORKER').default(true),
  DELIVERY_CONCURRENCY: int('DELIVERY_CONCURRENCY', 1, 1000).default(16),
  DELIVERY_ENDPOINT_CONCURRENCY: int('DELIVERY_ENDPOINT_CONCURRENCY', 1, 1000).default(4),
  DELIVERY_ENDPOINT_BREAKER_FAILURES: int('DELIVERY_ENDPOINT_BREAKER_FAILURES', 1, 1000).default(3),
  DELIVERY_ENDPOINT_BREAKER_COOLDOWN_MS: int('DELIVERY_ENDPOINT_BREAKER_COOLDOWN_MS', 0, 3_600_000).default(30_000),
  DELIVERY_BATCH_SIZE: int('DELIVERY_BATCH_SIZE', 1, 1000).default(50),
  DELIVERY_LEASE_MS: int('DELIVERY_LEASE_MS', 1000, 3_600_000).default(60_000),
  REDIS_URL: optional(url('REDIS_URL', ['redis:', 'rediss:'])),
  RATE_LIMIT_MAX: int('RATE_LIMIT_MAX', 1, 1_000_000).default(120),
  RATE_LIMIT_WINDOW: duration('RATE_LIMIT_WINDOW').default(60_000),
  RATE_LIMIT_FIELDS: fieldBudgets('RATE_LIMIT_FIELDS').default({}),
  TRUST_PROXY: bool('TRUST_PROXY').default(false),
  CORS_ORIGINS: corsOrigins('CORS_ORIGINS').default('*'),
  INTROSPECTION: bool('INTROSPECTION').default(true),
  QUOTES_URL: optional(
    url('QUOTES_URL', ['http:', 'https:']).refine((v) => v.includes('{ticker}'), {
      message: 'QUOTES_URL must contain {ticker}',
    }),
  ),
  QUOTES_PRICE_FIELD: z.string().min(1).default('price'),
  QUOTES_TIMEOUT_MS: int('QUOTES_TIMEOUT_MS', 1, 60_000).default(3000),
  QUOTES_CACHE_MS: int('QUOTES_CACHE_MS', 0, 3_600_000).default(5000),
  QUOTES_POLL_INTERVAL: duration('QUOTES_POLL_INTERVAL').default(15_000),
  STREAMS_PER_KEY_MAX: int('STREAMS_PER_KEY_MAX', 1, 10_000).default(10),
  SHUTDOWN_GRACE_MS: int('SHUTDOWN_GRACE_MS', 0, 3_600_000).default(8000),
  METRICS_TOKEN: optional(z.string().min(16, { message: 'METRICS_TOKEN must be at least 16 characters' })),
  METRICS_PORT: optional(int('METRICS_PORT', 1, 65535, 'a port number')),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

/** Every variable Alertwire reads (.env.example lists each with its default). */
export const ENV_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

type ParsedEnv = z.output<typeof EnvSchema>;

export type Config = Omit<ParsedEnv, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'> & {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: boolean;
};

class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError whose message is one line naming the variable. */
export function parseEnv(raw: Record<string, string | undefined>): Config {
  const result = EnvSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const message = issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
    throw new ConfigError(message);
  }
  const env = result.data;
  if (env.DATABASE_URL && env.NODE_ENV === 'production' && !env.SECRET_ENCRYPTION_KEY) {
    throw new ConfigError(
      'SECRET_ENCRYPTION_KEY is required with DATABASE_URL in production (openssl rand -base64 32)',
    );
  }
  return {
    ...env,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? env.NODE_ENV !== 'production',
  };
}

/** The environment, parsed; a bad value ends the process with one line naming it. */
export function loadConfigOrExit(): Config {
  try {
    return parseEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
