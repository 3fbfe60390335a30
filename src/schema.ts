import { builder } from './builder.js';
import './modules/common/date-time.graphql.js';
import './modules/common/errors.graphql.js';
import './modules/users/users.graphql.js';
import './modules/webhooks/webhooks.graphql.js';

export const schema = builder.toSchema();
