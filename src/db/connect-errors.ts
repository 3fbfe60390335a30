/**
 * Turns the failure to reach or use the configured PostgreSQL into one line naming the cause
 * and the fix, instead of drizzle's "Failed query: select pg_advisory_lock($1)". Returns
 * undefined for errors that are not about the connection.
 */
export function describeConnectError(error: unknown, databaseUrl: string): string | undefined {
  const target = parseTarget(databaseUrl);
  const where = `${target.host}:${target.port}`;
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : '';
    switch (code) {
      case '3D000':
        return `database "${target.database}" does not exist — create it with createdb${target.flags} ${target.database}`;
      case '28000':
        return /role .* does not exist/.test(text)
          ? `PostgreSQL role "${target.user}" does not exist — create it with createuser${target.hostFlags} ${target.user}, or put another user in DATABASE_URL`
          : `PostgreSQL at ${where} refused role "${target.user}" (${text}) — allow it in pg_hba.conf or use another user in DATABASE_URL`;
      case '28P01':
        return `PostgreSQL at ${where} refused the password for "${target.user}" — fix the password in DATABASE_URL`;
      case '42501':
        return `PostgreSQL role "${target.user}" lacks a permission on "${target.database}" (${text}) — grant it, or use the database owner in DATABASE_URL`;
      case '53300':
        return `PostgreSQL at ${where} has no free connections (${text}) — raise max_connections or stop other clients`;
      case '57P03':
        return `PostgreSQL at ${where} is starting up or shutting down — wait for it, then start Alertwire again`;
      case 'ECONNREFUSED':
        return `cannot reach PostgreSQL at ${where} (connection refused) — start it, or fix the host and port in DATABASE_URL`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `PostgreSQL host "${target.host}" was not found — fix the host in DATABASE_URL`;
      case 'ETIMEDOUT':
      case 'CONNECT_TIMEOUT':
        return `PostgreSQL at ${where} did not answer in time — check that it runs and that the network lets ${where} through`;
      case 'ECONNRESET':
        return `PostgreSQL at ${where} closed the connection (does it expect TLS? add ?sslmode=require to DATABASE_URL)`;
    }
  }
  return undefined;
}

function parseTarget(databaseUrl: string) {
  const url = new URL(databaseUrl);
  const host = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')) || 'localhost';
  const port = url.port || '5432';
  const user = decodeURIComponent(url.username) || process.env.PGUSER || process.env.USER || 'postgres';
  const database = decodeURIComponent(url.pathname.slice(1)) || user;
  const local = ['localhost', '127.0.0.1', '::1'].includes(host) && port === '5432';
  // The client tools default to the local server and the login user; name what differs.
  const hostFlags = local ? '' : ` -h ${host} -p ${port}`;
  const flags = hostFlags + (url.username ? ` -U ${user}` : '');
  return { host, port, user, database, flags, hostFlags };
}
