import type { Logger } from './logger.js';
import type { ApiKeysService } from './modules/api-keys/api-keys.service.js';
import type { AlertsService } from './modules/alerts/alerts.service.js';
import type { DeliveriesService } from './modules/deliveries/deliveries.service.js';
import type { QuotesService } from './modules/quotes/quotes.service.js';
import type { RequestLedger } from './rate-limit/request-ledger.js';
import type { User } from './modules/users/users.repository.js';
import type { UsersService } from './modules/users/users.service.js';
import type { WebhooksService } from './modules/webhooks/webhooks.service.js';

export interface Services {
  users: UsersService;
  apiKeys: ApiKeysService;
  webhooks: WebhooksService;
  quotes: QuotesService;
  alerts: AlertsService;
  deliveries: DeliveriesService;
}

export interface Context {
  /** The user whose API key came with the request, or null. */
  viewer: User | null;
  /** True when the request presented ADMIN_API_KEY; the admin is not a user. */
  isAdmin: boolean;
  services: Services;
  /** One id per request: every line of `logger`, a masked error's requestId, the X-Request-Id header. */
  requestId: string;
  logger: Logger;
  /** The peer address, or the last X-Forwarded-For entry (the proxy's) when TRUST_PROXY is on. */
  clientAddress: string;
  /** This request's ledger: charges root fields, feeds the X-RateLimit-* headers (useRateLimit) and the status. */
  rateLimit: RequestLedger;
}
