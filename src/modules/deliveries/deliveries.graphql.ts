import { messageIdOf } from '../../delivery/delivery-queue.js';
import { DELIVERED, FAILURE_KINDS } from '../../delivery/delivery-status.js';
import { builder } from '../../builder.js';
import { DeliveryNotFound, WebhookNotFound } from '../../errors.js';
import { DELIVERY_STATUSES, type AttemptRow, type DeliveryView } from './deliveries.repository.js';

const FAILURE_KIND_DESCRIPTIONS: Record<(typeof FAILURE_KINDS)[number], string> = {
  TIMEOUT: 'No response within the timeout.',
  DNS_ERROR: 'The host name did not resolve.',
  CONNECTION_ERROR: 'Connection refused, reset or TLS failure.',
  BLOCKED_ADDRESS: 'The address is loopback, private, link-local or otherwise not allowed.',
  REDIRECT: 'The receiver answered 3xx; redirects are not followed.',
  HTTP_ERROR: 'The receiver answered with a status outside 2xx and 3xx.',
};

const STATUS_DESCRIPTIONS: Record<(typeof DELIVERY_STATUSES)[number], string> = {
  PENDING: 'Waiting for its next attempt.',
  DELIVERED: 'The receiver answered 2xx.',
  FAILED: 'Every attempt failed, or the delivery was cancelled.',
  SKIPPED: 'Not sent: the webhook was disabled after repeated failures (see failureReason).',
};

const DeliveryStatusEnum = builder.enumType('DeliveryStatus', {
  values: Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, { description: STATUS_DESCRIPTIONS[s] }])) as {
    [K in (typeof DELIVERY_STATUSES)[number]]: { description: string };
  },
});

const HttpHeader = builder.objectRef<[string, string]>('HttpHeader').implement({
  fields: (t) => ({
    name: t.string({ resolve: ([name]) => name }),
    value: t.string({ resolve: ([, value]) => value }),
  }),
});

const DeliveryFailureKindEnum = builder.enumType('DeliveryFailureKind', {
  values: Object.fromEntries(FAILURE_KINDS.map((kind) => [kind, { description: FAILURE_KIND_DESCRIPTIONS[kind] }])) as {
    [K in (typeof FAILURE_KINDS)[number]]: { description: string };
  },
});

type Status = (typeof DELIVERY_STATUSES)[number];
type Kind = (typeof FAILURE_KINDS)[number];

const DeliveryAttempt = builder.objectRef<AttemptRow>('DeliveryAttempt').implement({
  fields: (t) => ({
    number: t.exposeInt('number'),
    url: t.exposeString('url', { nullable: true, description: 'The URL this attempt was sent to.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    httpStatus: t.exposeInt('httpStatus', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    failureKind: t.field({
      type: DeliveryFailureKindEnum,
      nullable: true,
      resolve: (a) => (a.failureKind as Kind | null) ?? null,
    }),
    requestHeaders: t.field({
      type: [HttpHeader],
      description: 'The headers sent, signatures included.',
      resolve: (a) => a.requestHeaders ?? [],
    }),
    responseHeaders: t.field({
      type: [HttpHeader],
      description: "The receiver's content-type, retry-after and location (where a redirect pointed), when it answered.",
      resolve: (a) => a.responseHeaders ?? [],
    }),
    responseBody: t.exposeString('responseBody', { nullable: true, description: 'The first 2 KB of the response body.' }),
    responseMs: t.exposeInt('responseMs', {
      nullable: true,
      description: 'Milliseconds until the response headers arrived (durationMs also counts reading the body); null without an answer.',
    }),
  }),
});

export const WebhookDelivery = builder.objectRef<DeliveryView>('WebhookDelivery').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    messageId: t.id({
      description:
        "The webhook-id header its attempts carry (Standard Webhooks): its own id, or for a redelivery the original delivery's, so a receiver that de-duplicates by webhook-id sees the same message.",
      resolve: messageIdOf,
    }),
    event: t.exposeString('event', { description: 'alerts.triggered, alerts.resolved or webhook.ping' }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status as Status }),
    url: t.exposeString('url', {
      description: "The URL at the time the delivery was created. Attempts go to the webhook's current URL; see attemptLog.url.",
    }),
    payloadSummary: t.exposeString('payloadSummary'),
    httpStatus: t.exposeInt('httpStatus', { nullable: true }),
    attempts: t.exposeInt('attempts'),
    maxAttempts: t.exposeInt('maxAttempts'),
    failureReason: t.exposeString('failureReason', { nullable: true }),
    failureKind: t.field({
      type: DeliveryFailureKindEnum,
      nullable: true,
      description: 'Why the last attempt failed, as a type a client can branch on; null unless it failed.',
      resolve: (d) => (d.status === DELIVERED ? null : ((d.failureKind as Kind | null) ?? null)),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due; null once the delivery is DELIVERED or FAILED.',
    }),
    attemptLog: t.field({ type: [DeliveryAttempt], resolve: (d) => d.attemptLog }),
  }),
});

const WebhookDeliveryHistory = builder
  .objectRef<{ userId: string; deliveries: DeliveryView[]; count: number; maxRecords: number }>('WebhookDeliveryHistory')
  .implement({
    fields: (t) => ({
      userId: t.exposeID('userId'),
      deliveries: t.expose('deliveries', { type: [WebhookDelivery] }),
      count: t.exposeInt('count'),
      maxRecords: t.exposeInt('maxRecords'),
    }),
  });

const deliveryPayload = (name: string) =>
  builder.objectRef<{ delivery: DeliveryView }>(name).implement({
    fields: (t) => ({ delivery: t.expose('delivery', { type: WebhookDelivery }) }),
  });

const SendTestWebhookSuccess = deliveryPayload('SendTestWebhookSuccess');

const RedeliverFailedDeliveriesSuccess = builder
  .objectRef<{ deliveries: DeliveryView[]; count: number }>('RedeliverFailedDeliveriesSuccess')
  .implement({
    fields: (t) => ({
      deliveries: t.expose('deliveries', { type: [WebhookDelivery] }),
      count: t.exposeInt('count'),
    }),
  });
const RedeliverWebhookDeliverySuccess = deliveryPayload('RedeliverWebhookDeliverySuccess');

builder.queryField('webhookDeliveries', (t) =>
  t.withAuth({ viewer: true }).field({
    type: WebhookDeliveryHistory,
    description: "The viewer's most recent deliveries, newest first; at most maxRecords are kept.",
    args: { status: t.arg({ type: DeliveryStatusEnum }) },
    resolve: (_root, { status }, ctx) => ctx.services.deliveries.history(ctx.viewer.id, status),
  }),
);

builder.mutationField('sendTestWebhook', (t) =>
  t.withAuth({ viewer: true }).field({
    type: SendTestWebhookSuccess,
    description: "Sends a signed webhook.ping event to the viewer's webhook.",
    errors: { types: [WebhookNotFound], directResult: true, union: { name: 'SendTestWebhookResult' } },
    resolve: (_root, _args, ctx) => ctx.services.deliveries.sendTest(ctx.viewer.id),
  }),
);

builder.mutationField('redeliverWebhookDelivery', (t) =>
  t.withAuth({ viewer: true }).field({
    type: RedeliverWebhookDeliverySuccess,
    description: 'Sends the payload of an earlier delivery again, as a new delivery.',
    args: { id: t.arg.id({ required: true }) },
    errors: {
      types: [DeliveryNotFound, WebhookNotFound],
      directResult: true,
      union: { name: 'RedeliverWebhookDeliveryResult' },
    },
    resolve: (_root, { id }, ctx) => ctx.services.deliveries.redeliver(ctx.viewer.id, id),
  }),
);

builder.mutationField('redeliverFailedDeliveries', (t) =>
  t.withAuth({ viewer: true }).field({
    type: RedeliverFailedDeliveriesSuccess,
    description:
      'Sends every message that FAILED since a time again, once each, as new deliveries (SKIPPED ones too: those missed while the webhook was disabled); oldest first, at most maxRecords. A message delivered since (by a redelivery) or on its way (PENDING) is left alone, so calling it again sends nothing twice. While the webhook is disabled nothing is sent or changed and the result is empty: enableWebhook first.',
    args: { since: t.arg({ type: 'DateTime', required: true }) },
    errors: { types: [WebhookNotFound], directResult: true, union: { name: 'RedeliverFailedDeliveriesResult' } },
    resolve: (_root, { since }, ctx) => ctx.services.deliveries.redeliverFailed(ctx.viewer.id, since),
  }),
);

builder.subscriptionType({});

builder.subscriptionField('webhookDeliveryUpdated', (t) =>
  t.withAuth({ viewer: true }).field({
    type: WebhookDelivery,
    description: "Every change of status or attempt count of the viewer's deliveries, from any process.",
    subscribe: (_root, _args, ctx) => ctx.services.deliveries.subscribe(ctx.viewer.id),
    resolve: (delivery) => delivery,
  }),
);
