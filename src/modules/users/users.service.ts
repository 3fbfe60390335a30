import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import { ValidationError, validationErrorFromZod } from '../../errors.js';
import { apiKeysRepository } from '../api-keys/api-keys.repository.js';
import { DEFAULT_KEY_NAME, newApiKey, type ApiKeysService } from '../api-keys/api-keys.service.js';
import { usersRepository, type User } from './users.repository.js';

const RegisterInput = z.object({
  name: z.string().trim().min(1, 'Name must not be empty').max(100, 'Name must be at most 100 characters'),
  email: z
    .string()
    .trim()
    .max(254, 'Email must be at most 254 characters')
    .pipe(z.email('Email must be a valid email address'))
    .transform((e) => e.toLowerCase()),
});

const EMAIL_TAKEN = new ValidationError([{ path: ['input', 'email'], message: 'This email is already registered' }]);

export function usersService(deps: { db: Db; clock: Clock; apiKeys: Pick<ApiKeysService, 'authenticate'> }) {
  return {
    async register(input: { name: string; email: string }): Promise<{ user: User; apiKey: string }> {
      const parsed = RegisterInput.safeParse(input);
      if (!parsed.success) {
        throw validationErrorFromZod(parsed.error.issues, ['input']);
      }
      const { key, keyHash, prefix } = newApiKey();
      const createdAt = deps.clock.now();
      try {
        // The first key is an ordinary key named `default`: it can be listed, replaced and revoked.
        const user = await deps.db.transaction(async (tx) => {
          // The legacy column too, for one release: a rollback to the previous release (which reads
          // only users.api_key_hash) must still authenticate users registered by this one.
          const inserted = await usersRepository(tx).insert({ ...parsed.data, createdAt, apiKeyHash: keyHash });
          await apiKeysRepository(tx).insert({ userId: inserted.id, name: DEFAULT_KEY_NAME, keyHash, prefix, createdAt });
          return inserted;
        });
        return { user, apiKey: key };
      } catch (error) {
        if (isUniqueViolation(error)) throw EMAIL_TAKEN;
        throw error;
      }
    },
    authenticate: (apiKey: string) => deps.apiKeys.authenticate(apiKey),
  };
}

export type UsersService = ReturnType<typeof usersService>;
