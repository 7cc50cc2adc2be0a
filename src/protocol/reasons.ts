/**
 * Why the ledger skipped a batch item (`PaymentRejected` / `RefundRejected`), by code. Mirrors the Solidity
 * enum `RejectReason` in `contracts/interfaces/ISettlementLedger.sol`; a test keeps them equal. "Sender" is
 * whoever is debited (a payment's payer, a refund's payee), "receiver" whoever is credited.
 */
export const REJECT_REASONS = [
  "None",
  "InvalidSignature",
  "Expired",
  "NonceUsed",
  "NonceOutOfWindow",
  "SenderNotCustomer",
  "SenderFrozen",
  "ReceiverNotCustomer",
  "ReceiverFrozen",
  "ReceiverBankInactive",
  "InvalidAmount",
  "InsufficientBalance",
  "DailyLimitExceeded",
  "InsufficientReserves",
  "UnknownPayment",
  "RefundExceedsPayment",
  "NotRelayerBank",
  "CurrencyDisabled",
  "QuoteInvalid",
  "QuoteOutOfWindow",
  "QuoteExhausted",
  "QuoteMismatch",
] as const;

/** Name of a rejection reason. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * The name of a rejection reason code, or `Unknown(<code>)` for a code this SDK does not know yet.
 *
 * @example
 * rejectReasonName(11); // "InsufficientBalance"
 */
export function rejectReasonName(code: number): RejectReason | `Unknown(${number})` {
  return REJECT_REASONS[code] ?? `Unknown(${code})`;
}
