import { builder } from './builder.js';
import './modules/common/date-time.graphql.js';
import './modules/common/errors.graphql.js';
import './modules/users/users.graphql.js';
import './modules/api-keys/api-keys.graphql.js';
import './modules/webhooks/webhooks.graphql.js';
import './modules/deliveries/deliveries.graphql.js';
import './modules/quotes/quotes.graphql.js';
import './modules/alerts/alerts.graphql.js';

export const schema = builder.toSchema();
