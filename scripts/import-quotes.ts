import { readFileSync } from 'node:fs';
import { systemClock } from '../src/clock.js';
import { loadConfigOrExit } from '../src/env.js';
import { createDb, type Database } from '../src/db/client.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';
import { quotesRepository } from '../src/modules/quotes/quotes.repository.js';
import { parseQuotesCsv } from '../src/modules/quotes/quotes-csv.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: npm run quotes:import -- file.csv   (lines: ticker,price[,as_of])');
  process.exit(2);
}

let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (error) {
  console.error(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}

const { points, problems } = parseQuotesCsv(text, systemClock.now());
if (problems.length > 0) {
  for (const p of problems) console.error(`${file}:${p.line}: ${p.message}`);
  console.error(`${problems.length} bad line(s); nothing was imported`);
  process.exit(1);
}

const config = loadConfigOrExit();
let database: Database;
try {
  database = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, templateDir: PGLITE_TEMPLATE_DIR });
} catch (error) {
  // e.g. the embedded database is held by a running server
  console.error(`cannot open the database: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
try {
  await database.migrate();
  await quotesRepository(database.db).record(points);
} finally {
  await database.close();
}
const tickers = new Set(points.map((p) => p.ticker)).size;
console.log(`imported ${points.length} quote(s) for ${tickers} ticker(s) (${database.kind})`);
