/**
 * QRSettle's shared definitions: EIP-712 domain and types, payment ids, batch encoding, rejection reasons,
 * settlement outcomes, revert decoding and the contracts' ABIs. Wallets, relayers, auditors and tests all
 * import from here.
 */
export * from "./batch.ts";
export * from "./eip712.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./generated/abi.ts";
export * from "./ids.ts";
export * from "./merkle.ts";
export * from "./reasons.ts";
export * from "./revert.ts";
export * from "./types.ts";
export * from "./amounts.ts";
export * from "./currencies.ts";
export * from "./paymentFromRequest.ts";
export * from "./decodePaymentBatch.ts";
export * from "./refundOutcomes.ts";
export * from "./wire.ts";
export * from "./fx.ts";
export * from "./fxWire.ts";
