import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import { ValidationError, validationErrorFromZod } from '../../errors.js';
import { generateApiKey, hashApiKey } from './api-key.js';
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

export function usersService(deps: { db: Db; clock: Clock }) {
  const repo = usersRepository(deps.db);
  return {
    async register(input: { name: string; email: string }): Promise<{ user: User; apiKey: string }> {
      const parsed = RegisterInput.safeParse(input);
      if (!parsed.success) {
        throw validationErrorFromZod(parsed.error.issues.map((i) => ({ ...i, path: ['input', ...i.path] })));
      }
      const apiKey = generateApiKey();
      try {
        const user = await repo.insert({ ...parsed.data, apiKeyHash: hashApiKey(apiKey), createdAt: deps.clock.now() });
        return { user, apiKey };
      } catch (error) {
        if (isUniqueViolation(error)) throw EMAIL_TAKEN;
        throw error;
      }
    },
    authenticate: (apiKey: string) => repo.findByApiKeyHash(hashApiKey(apiKey)),
  };
}

export type UsersService = ReturnType<typeof usersService>;
