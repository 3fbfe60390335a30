import { builder } from '../../builder.js';
import { withBadUserInput } from '../../errors.js';
import type { Quote as QuoteModel } from './quote-source.js';
import { SIGNALS } from './signal.js';

export const SignalEnum = builder.enumType('Signal', { values: SIGNALS });

const Quote = builder.objectRef<QuoteModel>('Quote').implement({
  fields: (t) => ({
    ticker: t.exposeString('ticker'),
    price: t.exposeFloat('price'),
    asOf: t.expose('asOf', { type: 'DateTime' }),
    signal: t.field({
      type: SignalEnum,
      nullable: true,
      description: 'BUY, SELL or HOLD from the quote history, null while the history is too short.',
      resolve: (q) => q.signal,
    }),
  }),
});

const QuoteInput = builder.inputType('QuoteInput', {
  fields: (t) => ({
    ticker: t.string({ required: true, description: "Upper-case symbol: 1–10 letters, digits, '.' or '-'." }),
    price: t.float({ required: true, description: 'Greater than 0.' }),
    asOf: t.field({ type: 'DateTime', description: 'When the price was observed; defaults to now.' }),
  }),
});

const UpsertQuotesPayload = builder.objectRef<{ count: number }>('UpsertQuotesPayload').implement({
  fields: (t) => ({ count: t.exposeInt('count', { description: 'How many quotes were recorded.' }) }),
});

builder.queryField('quote', (t) =>
  t.withAuth({ viewer: true }).field({
    type: Quote,
    nullable: true,
    description: 'The latest quote of a ticker, or null when the quote source does not know it.',
    args: { ticker: t.arg.string({ required: true }) },
    resolve: (_root, { ticker }, ctx) => withBadUserInput(() => ctx.services.quotes.get(ticker)),
  }),
);

builder.mutationField('upsertQuotes', (t) =>
  t.withAuth({ admin: true }).field({
    type: UpsertQuotesPayload,
    description: 'Admin only (ADMIN_API_KEY): records the latest prices.',
    args: { input: t.arg({ type: [QuoteInput], required: true }) },
    resolve: (_root, { input }, ctx) =>
      withBadUserInput(() => ctx.services.quotes.upsert(input.map((q) => ({ ...q, asOf: q.asOf ?? undefined })))),
  }),
);
