import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import type { Context } from './context.js';
import RootFieldChargesPlugin from './rate-limit/root-field-charges.plugin.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
}>({
  plugins: [RootFieldChargesPlugin, ErrorsPlugin],
  defaultFieldNullability: false,
  // Only our own DomainError subclasses become schema types; anything else is masked by yoga.
  errors: { defaultTypes: [] },
});

builder.queryType({});
builder.mutationType({});
