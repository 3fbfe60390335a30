import { codedError } from './errors.js';
import type { User } from './modules/users/users.repository.js';
import type { UsersService } from './modules/users/users.service.js';
import type { WebhooksService } from './modules/webhooks/webhooks.service.js';

export interface Services {
  users: UsersService;
  webhooks: WebhooksService;
}

export interface Context {
  /** The user whose API key came with the request, or null. */
  viewer: User | null;
  /** True when the request presented ADMIN_API_KEY; the admin is not a user. */
  isAdmin: boolean;
  services: Services;
  requestId: string;
  /** The peer address, or the first X-Forwarded-For hop when TRUST_PROXY is on. */
  clientAddress: string;
}

export function requireViewer(ctx: Context): User {
  if (!ctx.viewer) {
    throw codedError(
      'UNAUTHENTICATED',
      ctx.isAdmin
        ? 'The admin key may only call upsertQuotes'
        : 'A valid API key is required: send X-API-Key: <key> or Authorization: Bearer <key>',
    );
  }
  return ctx.viewer;
}
