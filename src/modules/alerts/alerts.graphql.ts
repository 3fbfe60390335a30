import { builder } from '../../builder.js';
import { AlertLimitExceeded, AlertNotFound, ValidationError } from '../../errors.js';
import { SignalEnum } from '../quotes/quotes.graphql.js';
import type { Signal } from '../quotes/signal.js';
import { ALERT_TYPES, DIRECTIONS, type AlertType, type Direction } from './alert-input.js';
import { WebhookDelivery } from '../deliveries/deliveries.graphql.js';
import type { AlertEvaluation, TriggeredAlertsSummary } from './alert-evaluation.js';
import type { AlertRow } from './alerts.repository.js';
import type { ALERT_NOTIFY, AlertNotify } from './alert-state.js';
import type { AlertTriggeredView, CheckReport } from './alerts.service.js';

const AlertStateEnum = builder.enumType('AlertState', {
  values: {
    ARMED: { description: 'Waiting for its condition to become true.' },
    TRIGGERED: { description: 'Its condition is true and it has notified; it re-arms when the condition is false again.' },
    SPENT: { description: 'A ONCE alert that has notified.' },
    EXPIRED: { description: 'Past expiresAt: it never notifies again.' },
  } as const,
});

const AlertNotifyEnum = builder.enumType('AlertNotify', {
  description: 'How often an alert notifies.',
  values: {
    ONCE: { description: 'At the first crossing only; then the alert is SPENT.' },
    EVERY_CROSSING: {
      description: 'At every crossing from false to true; the alert re-arms when its condition is false again.',
    },
  } satisfies Record<(typeof ALERT_NOTIFY)[number], { description: string }>,
});

const AlertTypeEnum = builder.enumType('AlertType', { values: ALERT_TYPES });
const PriceDirectionEnum = builder.enumType('PriceDirection', { values: DIRECTIONS });

const TYPE_NAMES: Record<AlertType, string> = {
  PRICE_THRESHOLD: 'PriceThresholdAlert',
  SIGNAL_CHANGE: 'SignalChangeAlert',
  PRICE_CHANGE_PERCENT: 'PriceChangePercentAlert',
};

const Alert = builder.interfaceRef<AlertRow>('Alert').implement({
  resolveType: (alert) => TYPE_NAMES[alert.alertType as AlertType],
  fields: (t) => ({
    id: t.exposeID('id'),
    alertType: t.field({ type: AlertTypeEnum, resolve: (a) => a.alertType as AlertType }),
    ticker: t.exposeString('ticker'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    state: t.field({ type: AlertStateEnum, resolve: (a, _args, ctx) => ctx.services.alerts.stateOf(a) }),
    notify: t.field({ type: AlertNotifyEnum, resolve: (a) => a.notify as AlertNotify }),
    cooldownSeconds: t.exposeInt('cooldownSeconds', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    notifyResolved: t.exposeBoolean('notifyResolved'),
    lastTriggeredAt: t.expose('lastTriggeredAt', { type: 'DateTime', nullable: true }),
    triggerCount: t.exposeInt('triggerCount'),
  }),
});

builder.objectRef<AlertRow>('PriceThresholdAlert').implement({
  interfaces: [Alert],
  fields: (t) => ({
    targetPrice: t.float({ resolve: (a) => a.targetPrice! }),
    direction: t.field({ type: PriceDirectionEnum, resolve: (a) => a.direction as Direction }),
  }),
});

builder.objectRef<AlertRow>('SignalChangeAlert').implement({
  interfaces: [Alert],
  fields: (t) => ({ targetSignal: t.field({ type: SignalEnum, resolve: (a) => a.targetSignal as Signal }) }),
});

builder.objectRef<AlertRow>('PriceChangePercentAlert').implement({
  interfaces: [Alert],
  fields: (t) => ({
    thresholdPercent: t.float({ resolve: (a) => a.thresholdPercent! }),
    baselinePrice: t.float({ description: 'The price when the alert was created.', resolve: (a) => a.baselinePrice! }),
  }),
});

const CreateAlertInput = builder.inputType('CreateAlertInput', {
  description: 'Fields beyond alertType and ticker are required or forbidden by alertType.',
  fields: (t) => ({
    alertType: t.field({ type: AlertTypeEnum, required: true }),
    ticker: t.string({ required: true, description: "Upper-case symbol known to the quote source, e.g. AAPL or BRK.B." }),
    targetPrice: t.float({ description: 'PRICE_THRESHOLD: greater than 0.' }),
    direction: t.field({ type: PriceDirectionEnum, description: 'PRICE_THRESHOLD: ABOVE triggers when price > target.' }),
    targetSignal: t.field({ type: SignalEnum, description: 'SIGNAL_CHANGE: the signal that triggers.' }),
    thresholdPercent: t.float({ description: 'PRICE_CHANGE_PERCENT: move from the baseline price, in percent, > 0.' }),
    notify: t.field({ type: AlertNotifyEnum, description: 'Default EVERY_CROSSING.' }),
    cooldownSeconds: t.int({ description: 'No second notification within this many seconds of the last one.' }),
    expiresAt: t.field({ type: 'DateTime' }),
    notifyResolved: t.boolean({ description: 'Also send alerts.resolved when the condition is false again. Default false.' }),
  }),
});

const CreateAlertSuccess = builder.objectRef<{ alert: AlertRow }>('CreateAlertSuccess').implement({
  fields: (t) => ({ alert: t.expose('alert', { type: Alert }) }),
});

const DeleteAlertSuccess = builder.objectRef<{ id: string; message: string }>('DeleteAlertSuccess').implement({
  fields: (t) => ({ id: t.exposeID('id'), message: t.exposeString('message') }),
});

const AlertList = builder
  .objectRef<{ alerts: AlertRow[]; count: number; maxAlerts: number }>('AlertList')
  .implement({
    fields: (t) => ({
      alerts: t.expose('alerts', { type: [Alert] }),
      count: t.exposeInt('count'),
      maxAlerts: t.exposeInt('maxAlerts'),
    }),
  });

const AlertEvaluationRef = builder.objectRef<AlertEvaluation>('AlertEvaluation').implement({
  fields: (t) => ({
    alert: t.expose('alert', { type: Alert }),
    triggered: t.exposeBoolean('triggered'),
    currentValue: t.exposeString('currentValue', { nullable: true }),
    details: t.exposeString('details'),
    error: t.exposeString('error', { nullable: true, description: 'Why this alert could not be evaluated.' }),
    evaluatedAt: t.expose('evaluatedAt', { type: 'DateTime' }),
  }),
});

const TriggeredAlertsSummaryRef = builder.objectRef<TriggeredAlertsSummary>('TriggeredAlertsSummary').implement({
  fields: (t) => ({
    totalAlerts: t.exposeInt('totalAlerts'),
    triggeredCount: t.exposeInt('triggeredCount'),
    errorCount: t.exposeInt('errorCount'),
  }),
});

const TriggeredAlertsReportRef = builder
  .objectRef<CheckReport>('TriggeredAlertsReport')
  .implement({
    fields: (t) => ({
      results: t.expose('results', { type: [AlertEvaluationRef] }),
      summary: t.expose('summary', { type: TriggeredAlertsSummaryRef }),
      evaluatedAt: t.expose('evaluatedAt', { type: 'DateTime' }),
      delivery: t.expose('delivery', {
        type: WebhookDelivery,
        nullable: true,
        description: 'The delivery this check created, or null when nothing triggered or no active webhook.',
      }),
      deliveryError: t.exposeString('deliveryError', {
        nullable: true,
        description: 'Why no delivery was created although alerts triggered and a webhook is active; null otherwise.',
      }),
    }),
  });

const AlertTriggered = builder.objectRef<AlertTriggeredView>('AlertTriggered').implement({
  description: "One crossing of one of the viewer's alerts.",
  fields: (t) => ({
    alert: t.expose('alert', { type: Alert }),
    currentValue: t.exposeString('currentValue'),
    details: t.exposeString('details'),
    evaluatedAt: t.expose('evaluatedAt', { type: 'DateTime' }),
    delivery: t.expose('delivery', {
      type: WebhookDelivery,
      nullable: true,
      description: 'The delivery that carries this crossing, or null when the viewer has no active webhook.',
    }),
  }),
});

builder.subscriptionField('alertTriggered', (t) =>
  t.withAuth({ viewer: true }).field({
    type: AlertTriggered,
    description: "Every crossing of the viewer's alerts, from any process.",
    subscribe: (_root, _args, ctx) => ctx.services.alerts.subscribe(ctx.viewer.id),
    resolve: (crossing) => crossing,
  }),
);

builder.queryField('alerts', (t) =>
  t.withAuth({ viewer: true }).field({ type: AlertList, resolve: (_root, _args, ctx) => ctx.services.alerts.list(ctx.viewer.id) }),
);

builder.queryField('triggeredAlerts', (t) =>
  t.withAuth({ viewer: true }).field({
    type: TriggeredAlertsReportRef,
    description:
      'Evaluates every alert of the viewer now. When at least one alert triggered and the viewer has an active webhook, one delivery is created and returned in `delivery`; with the same triggered alerts on the same quotes as the last time, that earlier delivery is returned instead of a new one.',
    resolve: (_root, _args, ctx) => ctx.services.alerts.check(ctx.viewer.id, ctx),
  }),
);

builder.mutationField('createAlert', (t) =>
  t.withAuth({ viewer: true }).field({
    type: CreateAlertSuccess,
    args: { input: t.arg({ type: CreateAlertInput, required: true }) },
    errors: {
      types: [AlertLimitExceeded, ValidationError],
      directResult: true,
      union: { name: 'CreateAlertResult' },
    },
    resolve: (_root, { input }, ctx) => ctx.services.alerts.create(ctx.viewer.id, { ...input }),
  }),
);

builder.mutationField('deleteAlert', (t) =>
  t.withAuth({ viewer: true }).field({
    type: DeleteAlertSuccess,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [AlertNotFound], directResult: true, union: { name: 'DeleteAlertResult' } },
    resolve: (_root, { id }, ctx) => ctx.services.alerts.delete(ctx.viewer.id, String(id)),
  }),
);
