// `npm run codegen`: the schema's unions and interfaces for InMemoryCache({ possibleTypes }).

      export interface PossibleTypesResultData {
        possibleTypes: {
          [key: string]: string[]
        }
      }
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "CancelSubscriptionResult": [
      "CancelSubscriptionPayload",
      "ProviderError"
    ],
    "CreatePaymentResult": [
      "CreatePaymentPayload",
      "IdempotencyConflictError",
      "MerchantReferenceInUseError",
      "ProviderError"
    ],
    "CreateSubscriptionResult": [
      "CreateSubscriptionPayload",
      "IdempotencyConflictError",
      "MerchantReferenceInUseError",
      "ProviderError"
    ],
    "ErrorResult": [
      "IdempotencyConflictError",
      "MerchantReferenceInUseError",
      "PaymentNotRefundableError",
      "ProviderError",
      "RefundExceedsPaymentError",
      "SubscriptionClosedError"
    ],
    "Node": [
      "BillingSubscription",
      "Event",
      "Payment",
      "Refund"
    ],
    "RefundPaymentResult": [
      "IdempotencyConflictError",
      "MerchantReferenceInUseError",
      "PaymentNotRefundableError",
      "ProviderError",
      "RefundExceedsPaymentError",
      "RefundPaymentPayload"
    ],
    "UpdateSubscriptionResult": [
      "ProviderError",
      "SubscriptionClosedError",
      "UpdateSubscriptionPayload"
    ]
  }
};
      export default result;
    
export const possibleTypes = result.possibleTypes;