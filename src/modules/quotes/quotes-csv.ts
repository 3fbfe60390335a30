import { futureAsOfProblem, QuotePoint } from './quote-input.js';
import type { QuotePointRow } from './quotes.repository.js';

export interface CsvProblem {
  line: number;
  message: string;
}

const HEADER = /^ticker\s*,\s*price(\s*,\s*as_of)?$/i;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses `ticker,price[,as_of]` lines (optional header, blank lines skipped). `as_of` is an
 * ISO date-time with a zone or a date (midnight UTC); without it the point is stamped `now`.
 * Every bad line is reported; the points are only usable when `problems` is empty.
 */
export function parseQuotesCsv(text: string, now: Date): { points: QuotePointRow[]; problems: CsvProblem[] } {
  const points: QuotePointRow[] = [];
  const problems: CsvProblem[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const content = raw.trim();
      const isFirstRow = points.length === 0 && problems.length === 0;
      if (content === '' || (isFirstRow && HEADER.test(content))) return;
      const parsed = parseLine(content, now);
      if ('problem' in parsed) problems.push({ line: index + 1, message: parsed.problem });
      else points.push(parsed.point);
    });
  if (points.length === 0 && problems.length === 0) problems.push({ line: 1, message: 'the file has no quotes' });
  return { points, problems };
}

function parseLine(content: string, now: Date): { point: QuotePointRow } | { problem: string } {
  const cells = content.split(',').map((c) => c.trim());
  if (cells.length < 2 || cells.length > 3) {
    return { problem: `expected ticker,price[,as_of] but found ${cells.length} column(s)` };
  }
  const [ticker, priceText, asOfText] = cells as [string, string, string | undefined];
  const price = NUMBER.test(priceText) ? Number(priceText) : Number.NaN;
  const messages: string[] = [];
  const result = QuotePoint.safeParse({ ticker, price });
  for (const issue of result.error?.issues ?? []) {
    messages.push(`${issue.message}, got "${issue.path[0] === 'price' ? priceText : ticker}"`);
  }
  const asOf = asOfText ? parseAsOf(asOfText, now) : now;
  if (typeof asOf === 'string') messages.push(asOf);
  if (messages.length > 0 || typeof asOf === 'string') return { problem: messages.join('; ') };
  return { point: { ticker, price, asOf } };
}

/** The date, or why it is refused. */
function parseAsOf(text: string, now: Date): Date | string {
  const date = DATE_ONLY.test(text) ? new Date(`${text}T00:00:00Z`) : DATE_TIME.test(text) ? new Date(text) : null;
  if (!date || Number.isNaN(date.getTime())) {
    return `as_of must be a date (2026-02-15) or an ISO date-time with a zone, got "${text}"`;
  }
  return futureAsOfProblem(date, now) ? `as_of must not be in the future, got "${text}"` : date;
}
