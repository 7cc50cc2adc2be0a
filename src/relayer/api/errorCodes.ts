/**
 * Every error the relayer's HTTP API answers with: a stable string code and number (clients match on either),
 * the HTTP status, and what it means. Append only; never renumber or reuse a code.
 */
export const API_ERRORS = {
  // 1xxx: the request itself
  MALFORMED_JSON: { number: 1001, status: 400, meaning: "The body is not valid JSON." },
  BODY_TOO_LARGE: { number: 1002, status: 413, meaning: "The body exceeds `api.maxBodyBytes`." },
  INVALID_REQUEST: {
    number: 1003,
    status: 400,
    meaning: "The body does not match the schema; the message names the first offending field.",
  },
  UNSUPPORTED_MEDIA_TYPE: { number: 1004, status: 415, meaning: "The body is not `application/json`." },
  NOT_FOUND: { number: 1005, status: 404, meaning: "No such route, payment or refund." },
  METHOD_NOT_ALLOWED: { number: 1006, status: 405, meaning: "The route exists but not with this method." },
  INVALID_QUERY: { number: 1007, status: 400, meaning: "A query parameter is malformed." },
  // 11xx: the client
  UNAUTHORIZED: { number: 1101, status: 401, meaning: "Missing or unknown API key." },
  RATE_LIMITED: { number: 1102, status: 429, meaning: "The API key's rate limit is exhausted; retry later." },
  // 12xx: the signature and its terms
  SIGNATURE_MALFORMED: {
    number: 1201,
    status: 400,
    meaning: "An ECDSA signature must be 65 bytes (v 27, 28, 0 or 1) or 64 bytes (EIP-2098).",
  },
  SIGNATURE_MALLEABLE: {
    number: 1202,
    status: 400,
    meaning: "The signature's s is in the upper half of the curve order; the ledger refuses such twins.",
  },
  SIGNATURE_INVALID: {
    number: 1203,
    status: 422,
    meaning: "The signature does not recover the signer (nor does its ERC-1271 wallet accept it).",
  },
  PAYMENT_EXPIRED: {
    number: 1204,
    status: 422,
    meaning: "The deadline has passed or is too close to settle (`validation.minDeadlineSeconds`).",
  },
  // 13xx: the ledger's rules
  CURRENCY_NOT_SUPPORTED: { number: 1301, status: 422, meaning: "The currency is unknown or disabled." },
  UNKNOWN_BANK: { number: 1302, status: 422, meaning: "The payee's bank is not registered or not active." },
  PAYER_NOT_CUSTOMER: {
    number: 1303,
    status: 422,
    meaning: "The signer has no account at this relayer's bank in this currency.",
  },
  PAYER_FROZEN: { number: 1304, status: 422, meaning: "The signer's account is frozen." },
  PAYEE_NOT_CUSTOMER: {
    number: 1305,
    status: 422,
    meaning: "The payee has no account at the named payee bank in this currency.",
  },
  PAYEE_FROZEN: { number: 1306, status: 422, meaning: "The payee's account is frozen." },
  NONCE_USED: { number: 1307, status: 409, meaning: "The nonce is already used or cancelled on chain." },
  NONCE_IN_QUEUE: {
    number: 1308,
    status: 409,
    meaning: "Another payment or refund with this signer and nonce is already queued or settled.",
  },
  NONCE_OUT_OF_WINDOW: {
    number: 1309,
    status: 422,
    meaning: "The nonce is 64 or more above the account's nonce base, or above 2^47 - 1.",
  },
  AMOUNT_INVALID: {
    number: 1310,
    status: 422,
    meaning: "The amount is zero, wider than 96 bits, or above the bank's single-payment cap.",
  },
  INSUFFICIENT_BALANCE: {
    number: 1311,
    status: 422,
    meaning: "The balance minus what is already queued cannot cover the amount.",
  },
  DAILY_LIMIT_EXCEEDED: {
    number: 1312,
    status: 422,
    meaning: "The customer's daily limit minus what is already spent or queued cannot cover the amount.",
  },
  PAYMENT_NOT_SETTLED: {
    number: 1313,
    status: 422,
    meaning: "A refund names a payment that has no `PaymentSettled` event on this ledger.",
  },
  REFUND_MISMATCH: {
    number: 1314,
    status: 422,
    meaning: "The refund's paymentId is not the id of the payment sent with it.",
  },
  REFUND_EXCEEDS_PAYMENT: {
    number: 1315,
    status: 422,
    meaning: "Refunded, queued and requested refunds together exceed the payment.",
  },
  NOT_PAYEE_BANK: {
    number: 1316,
    status: 422,
    meaning: "A refund must be relayed by the payee's bank; this relayer serves another bank.",
  },
  // 15xx: the relayer
  INTERNAL: { number: 1500, status: 500, meaning: "An unexpected error; details are in the relayer's log." },
  CHAIN_UNAVAILABLE: {
    number: 1501,
    status: 503,
    meaning: "The chain could not be read to validate the request; retry later.",
  },
  SHUTTING_DOWN: { number: 1502, status: 503, meaning: "The relayer is draining and accepts nothing new." },
  QUEUE_FULL: {
    number: 1503,
    status: 503,
    meaning:
      "`api.maxQueued` requests already wait for a batch and none left within `api.queueWaitMs`; retry after `Retry-After` seconds.",
  },
  // 16xx: cross-currency payments and quotes
  FX_NOT_ENABLED: {
    number: 1601,
    status: 404,
    meaning: "This relayer has no FX contract configured (`chain.fx`), or serves no quotes.",
  },
  FX_PAIR_NOT_QUOTED: {
    number: 1602,
    status: 422,
    meaning: "No configured provider quotes this currency pair, or a currency code is unknown.",
  },
  QUOTE_AMOUNT_TOO_LARGE: {
    number: 1603,
    status: 422,
    meaning: "The amount exceeds what the provider quotes at once (`fx.provider.maxToAmount`).",
  },
  QUOTE_INVALID: {
    number: 1604,
    status: 422,
    meaning: "The quote's signature does not recover a relayer key of the provider bank it names.",
  },
  QUOTE_EXPIRED: {
    number: 1605,
    status: 422,
    meaning: "The quote is not valid now (before `validFrom` or after `expiry`).",
  },
  QUOTE_MISMATCH: {
    number: 1606,
    status: 422,
    meaning:
      "The payment does not match its quote: quote hash, currencies, or a pay amount other than the quote's rounding.",
  },
  QUOTE_EXHAUSTED: {
    number: 1607,
    status: 422,
    meaning: "Used, queued and requested amounts together exceed the quote's `maxToAmount`.",
  },
} as const satisfies Record<string, { number: number; status: number; meaning: string }>;

/** A stable API error code. */
export type ApiErrorCode = keyof typeof API_ERRORS;
