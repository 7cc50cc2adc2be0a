import type { Address, Hex } from "viem";

/**
 * A payment as the payer signs it (EIP-712 primary type `Payment`); mirrors the Solidity struct.
 * Amounts are integers in the currency's minor unit.
 */
export interface Payment {
  /** The account whose deposit is debited; signs the payment. */
  payer: Address;
  /** The merchant account credited, from the QR code. */
  payee: Address;
  /** The merchant's bank id, from the QR code. */
  payeeBank: number;
  /** ISO 4217 numeric currency code. */
  currency: number;
  /** Amount in minor units. */
  amount: bigint;
  /** keccak256 of the exact QR payload the payer scanned. */
  qrHash: Hex;
  /** The payer's nonce in this currency; unordered within a window of 64 above the account's base. */
  nonce: bigint;
  /** Unix time (seconds) after which the payment may no longer settle. */
  deadline: bigint;
}

/** A refund as the original payee signs it (EIP-712 primary type `Refund`). */
export interface Refund {
  /** Id (EIP-712 digest) of the payment being refunded. */
  paymentId: Hex;
  /** Amount returned to the payer, in minor units. */
  amount: bigint;
  /** The payee's nonce in the payment's currency. */
  nonce: bigint;
  /** Unix time (seconds) after which the refund may no longer settle. */
  deadline: bigint;
}

/** A payment with the payer's signature: 65-byte or EIP-2098 64-byte ECDSA, or ERC-1271 bytes. */
export interface SignedPayment {
  payment: Payment;
  signature: Hex;
  /** Set for smart-account payers, whose signature the ledger checks with ERC-1271. */
  smartAccount?: boolean;
}

/** `BankStatus` of `IBankRegistry`, indexed by its value as the registry returns it. */
export const BANK_STATUSES = ["None", "Active", "Suspended"] as const;
