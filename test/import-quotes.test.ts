import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuotesCsv } from '../src/modules/quotes/quotes-csv.js';
import { createTestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';
import { compiled } from './helpers/compiled.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string) => path.join(root, 'test/fixtures/quotes', name);
const NOW = new Date('2026-03-02T15:00:00.000Z');

let dataDir: string;
let source: TestDatabaseSource;
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aw-import-'));
  source = await createTestDatabaseSource({ dataDir });
});
afterAll(async () => {
  await source.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

async function runImport(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  if (backend === 'postgres') env.DATABASE_URL = source.url;
  else {
    delete env.DATABASE_URL;
    env.DATA_DIR = dataDir;
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [compiled('scripts/import-quotes.ts'), file],
      { cwd: root, env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run quotes:import', () => {
  it('reports every bad line with its number and imports nothing; then imports a good file', async () => {
    const bad = await runImport(fixture('bad.csv'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.csv:3: Ticker must be an upper-case symbol');
    expect(bad.stderr).toContain('bad.csv:4: Price must be greater than 0, got "-3"');
    expect(bad.stderr).toContain('bad.csv:5: Price must be a finite number, got "abc"');
    expect(bad.stderr).toContain('bad.csv:6: as_of must be a date');
    expect(bad.stderr).toContain('bad.csv:7: expected ticker,price[,as_of] but found 1 column(s)');
    expect(bad.stderr).toContain('bad.csv:8: Price must be at most 1,000,000,000');
    expect(bad.stderr).toContain('bad.csv:9: as_of must not be in the future, got "2999-01-01"');
    expect(bad.stderr).toContain('7 bad line(s); nothing was imported');

    const good = await runImport(fixture('good.csv'));
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(`imported 4 quote(s) for 3 ticker(s) (${backend})`);

    const t = await createTestApp({ source });
    try {
      const { apiKey } = await t.register();
      const quote = async (ticker: string) =>
        (await t.gql(`query($t: String!) { quote(ticker: $t) { price asOf } }`, { apiKey, variables: { t: ticker } })).body.data!.quote;
      expect(await quote('CSVA')).toEqual({ price: 11.25, asOf: '2026-02-02T14:30:00.000Z' });
      expect(await quote('CSVB')).toEqual({ price: 99, asOf: '2026-02-02T13:30:00.000Z' });
      expect(await quote('CSV.C')).toMatchObject({ price: 0.75 });
      expect(await quote('CSVX')).toBeNull();
    } finally {
      await t.close();
    }
  });

  it('exits with usage help when no file is given', async () => {
    const result = await runImport('');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npm run quotes:import -- file.csv');
  });
});

describe('parseQuotesCsv', () => {
  it('reads a header, dates, date-times and blank lines, stamping rows without as_of with now', () => {
    const { points, problems } = parseQuotesCsv('ticker,price\r\nAAPL,1.5\r\n\r\nMSFT,2,2026-01-05\n', NOW);
    expect(problems).toEqual([]);
    expect(points).toEqual([
      { ticker: 'AAPL', price: 1.5, asOf: NOW },
      { ticker: 'MSFT', price: 2, asOf: new Date('2026-01-05T00:00:00.000Z') },
    ]);
  });

  it('treats a header-like line after data as a bad row', () => {
    expect(parseQuotesCsv('AAPL,1\nticker,price\n', NOW).problems).toEqual([
      { line: 2, message: 'Ticker must be an upper-case symbol of 1–10 letters, digits, \'.\' or \'-\', got "ticker"; Price must be a finite number, got "price"' },
    ]);
  });

  it('rejects an empty file', () => {
    expect(parseQuotesCsv('ticker,price\n\n', NOW).problems).toEqual([{ line: 1, message: 'the file has no quotes' }]);
  });
});
