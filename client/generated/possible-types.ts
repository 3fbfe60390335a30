
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
    "DeleteAlertResult": [
      "AlertNotFound",
      "DeleteAlertSuccess"
    ],
    "DeleteWebhookResult": [
      "DeleteWebhookSuccess",
      "WebhookNotFound"
    ],
    "Error": [
      "AlertLimitExceeded",
      "AlertNotFound",
      "DeliveryNotFound",
      "InvalidWebhookUrl",
      "ValidationError",
      "WebhookNotFound"
    ],
    "RedeliverWebhookDeliveryResult": [
      "DeliveryNotFound",
      "RedeliverWebhookDeliverySuccess",
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
    "DeleteAlertResult": [
      "AlertNotFound",
      "DeleteAlertSuccess"
    ],
    "DeleteWebhookResult": [
      "DeleteWebhookSuccess",
      "WebhookNotFound"
    ],
    "Error": [
      "AlertLimitExceeded",
      "AlertNotFound",
      "DeliveryNotFound",
      "InvalidWebhookUrl",
      "ValidationError",
      "WebhookNotFound"
    ],
    "RedeliverWebhookDeliveryResult": [
      "DeliveryNotFound",
      "RedeliverWebhookDeliverySuccess",
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
    