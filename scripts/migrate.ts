import { createDb } from '../src/db/client.js';
import { parseEnv } from '../src/env.js';

const config = parseEnv(process.env);
const database = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
await database.migrate();
await database.close();
console.log(`migrations applied (${database.kind})`);
