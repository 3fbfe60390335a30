
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "Alert": [
      "PriceChangePercentAlert",
      "PriceThresholdAlert",
      "SignalChangeAlert"
    ],
    "CreateAlertResult": [
      "AlertLimitExceeded",
      "CreateAlertSuccess",
      "ValidationError"
    ],
    "CreateApiKeyResult": [
      "ApiKeyLimitExceeded",
      "CreateApiKeySuccess",
      "ValidationError"
    ],
    "DeleteAlertResult": [
      "AlertNotFound",
      "DeleteAlertSuccess"
    ],
    "DeleteWebhookResult": [
      "DeleteWebhookSuccess",
      "WebhookNotFound"
    ],
    "EnableWebhookResult": [
      "EnableWebhookSuccess",
      "WebhookNotFound"
    ],
    "Error": [
      "AlertLimitExceeded",
      "AlertNotFound",
      "ApiKeyLimitExceeded",
      "ApiKeyNotFound",
      "DeliveryNotFound",
      "InvalidWebhookUrl",
      "LastApiKey",
      "ValidationError",
      "WebhookNotFound"
    ],
    "RedeliverFailedDeliveriesResult": [
      "RedeliverFailedDeliveriesSuccess",
      "WebhookNotFound"
    ],
    "RedeliverWebhookDeliveryResult": [
      "DeliveryNotFound",
      "RedeliverWebhookDeliverySuccess",
      "WebhookNotFound"
    ],
    "RevokeApiKeyResult": [
      "ApiKeyNotFound",
      "LastApiKey",
      "RevokeApiKeySuccess"
    ],
    "RotateWebhookSecretResult": [
      "RotateWebhookSecretSuccess",
      "ValidationError",
      "WebhookNotFound"
    ],
    "SendTestWebhookResult": [
      "SendTestWebhookSuccess",
      "WebhookNotFound"
    ],
    "SetWebhookResult": [
      "InvalidWebhookUrl",
      "SetWebhookSuccess",
      "ValidationError"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "Alert": [
      "PriceChangePercentAlert",
      "PriceThresholdAlert",
      "SignalChangeAlert"
    ],
    "CreateAlertResult": [
      "AlertLimitExceeded",
      "CreateAlertSuccess",
      "ValidationError"
    ],
    "CreateApiKeyResult": [
      "ApiKeyLimitExceeded",
      "CreateApiKeySuccess",
      "ValidationError"
    ],
    "DeleteAlertResult": [
      "AlertNotFound",
      "DeleteAlertSuccess"
    ],
    "DeleteWebhookResult": [
      "DeleteWebhookSuccess",
      "WebhookNotFound"
    ],
    "EnableWebhookResult": [
      "EnableWebhookSuccess",
      "WebhookNotFound"
    ],
    "Error": [
      "AlertLimitExceeded",
      "AlertNotFound",
      "ApiKeyLimitExceeded",
      "ApiKeyNotFound",
      "DeliveryNotFound",
      "InvalidWebhookUrl",
      "LastApiKey",
      "ValidationError",
      "WebhookNotFound"
    ],
    "RedeliverFailedDeliveriesResult": [
      "RedeliverFailedDeliveriesSuccess",
      "WebhookNotFound"
    ],
    "RedeliverWebhookDeliveryResult": [
      "DeliveryNotFound",
      "RedeliverWebhookDeliverySuccess",
      "WebhookNotFound"
    ],
    "RevokeApiKeyResult": [
      "ApiKeyNotFound",
      "LastApiKey",
      "RevokeApiKeySuccess"
    ],
    "RotateWebhookSecretResult": [
      "RotateWebhookSecretSuccess",
      "ValidationError",
      "WebhookNotFound"
    ],
    "SendTestWebhookResult": [
      "SendTestWebhookSuccess",
      "WebhookNotFound"
    ],
    "SetWebhookResult": [
      "InvalidWebhookUrl",
      "SetWebhookSuccess",
      "ValidationError"
    ]
  }
};
      export default result;
    