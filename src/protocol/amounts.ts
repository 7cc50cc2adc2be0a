/**
 * Exact conversion between decimal amount strings ("98.73", as EMV QR tag 54 and people write them) and
 * integer minor units (9873n, as the ledger stores them), by the currency's ISO 4217 exponent. Everything is
 * string and bigint arithmetic: a binary float cannot hold 0.1, and one lost cent is one too many.
 */
import { QRSettleError } from "./errors.ts";

/**
 * The largest amount the ledger can hold: balances are 96-bit unsigned integers of minor units.
 *
 * @example
 * parseAmount("1", 2) <= MAX_AMOUNT_UNITS // true
 */
export const MAX_AMOUNT_UNITS = 2n ** 96n - 1n;

/** The largest exponent ISO 4217 uses is 4 (CLF, UYW); 18 leaves room for token-style units too. */
const MAX_EXPONENT = 18;

/** Stable identifiers of everything that can be wrong with an amount. */
export type AmountErrorCode =
  | "AMOUNT_EMPTY"
  | "AMOUNT_NOT_NUMERIC"
  | "AMOUNT_NEGATIVE"
  | "AMOUNT_TOO_MANY_DECIMALS"
  | "AMOUNT_OVERFLOW"
  | "AMOUNT_INVALID_EXPONENT";

/**
 * Thrown when an amount cannot be converted. `code` is stable and meant for programs; `shortMessage` is for
 * people; `details` holds "Key: value" context lines, which `message` also carries.
 *
 * @example
 * try {
 *   parseAmount("1.234", 2);
 * } catch (error) {
 *   if (error instanceof AmountError) console.log(error.code); // "AMOUNT_TOO_MANY_DECIMALS"
 * }
 */
export class AmountError extends QRSettleError {
  override name = "AmountError";
  declare readonly code: AmountErrorCode;

  constructor(
    code: AmountErrorCode,
    shortMessage: string,
    details: Record<string, string | number | bigint>,
  ) {
    super(code, shortMessage, { details });
  }
}

function assertExponent(exponent: number): void {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > MAX_EXPONENT) {
    throw new AmountError(
      "AMOUNT_INVALID_EXPONENT",
      `Exponent must be an integer from 0 to ${MAX_EXPONENT}.`,
      {
        Exponent: String(exponent),
      },
    );
  }
}

function assertWithinLedgerWidth(units: bigint, amount: string): void {
  if (units > MAX_AMOUNT_UNITS) {
    throw new AmountError("AMOUNT_OVERFLOW", "Amount does not fit the ledger's 96-bit balance width.", {
      Amount: amount,
      "Minor units": units,
      Maximum: MAX_AMOUNT_UNITS,
    });
  }
}

/**
 * Converts a decimal amount string into integer minor units. Accepts the forms EMV allows: "98", "98." and
 * "98.73"; the number of decimals may be anything up to the exponent.
 *
 * @param amount - Digits with at most one "." as decimal mark; no sign, no grouping, no exponent.
 * @param exponent - The currency's minor-unit exponent (see `getCurrency`).
 * @throws {AmountError} AMOUNT_EMPTY, AMOUNT_NEGATIVE, AMOUNT_NOT_NUMERIC, AMOUNT_TOO_MANY_DECIMALS,
 *   AMOUNT_OVERFLOW (more than 96 bits) or AMOUNT_INVALID_EXPONENT.
 *
 * @example
 * parseAmount("98.73", 2) // 9873n
 * parseAmount("98.", 2) // 9800n
 * parseAmount("1500", 0) // 1500n (JPY)
 * parseAmount("1.005", 3) // 1005n (BHD)
 */
export function parseAmount(amount: string, exponent: number): bigint {
  assertExponent(exponent);
  if (amount.length === 0) {
    throw new AmountError("AMOUNT_EMPTY", "Amount is empty.", { Amount: '""' });
  }
  if (amount.startsWith("-")) {
    throw new AmountError("AMOUNT_NEGATIVE", "Amount must not be negative.", { Amount: amount });
  }
  const match = /^(\d+)(?:\.(\d*))?$/.exec(amount);
  if (match === null) {
    throw new AmountError(
      "AMOUNT_NOT_NUMERIC",
      'Amount must be digits with at most one "." as decimal mark, e.g. "98.73".',
      { Amount: amount },
    );
  }
  const integerDigits = match[1] ?? "";
  const fractionDigits = match[2] ?? "";
  if (fractionDigits.length > exponent) {
    throw new AmountError(
      "AMOUNT_TOO_MANY_DECIMALS",
      `Amount has ${fractionDigits.length} decimals; the currency allows ${exponent}.`,
      { Amount: amount, Exponent: exponent },
    );
  }
  const units = BigInt(integerDigits + fractionDigits.padEnd(exponent, "0"));
  assertWithinLedgerWidth(units, amount);
  return units;
}

/**
 * Converts integer minor units into a decimal amount string with exactly `exponent` decimals, the canonical
 * form QRSettle writes into EMV tag 54.
 *
 * @throws {AmountError} AMOUNT_NEGATIVE, AMOUNT_OVERFLOW or AMOUNT_INVALID_EXPONENT.
 *
 * @example
 * formatAmount(9873n, 2) // "98.73"
 * formatAmount(5n, 3) // "0.005"
 * formatAmount(1500n, 0) // "1500"
 */
export function formatAmount(units: bigint, exponent: number): string {
  assertExponent(exponent);
  if (units < 0n) {
    throw new AmountError("AMOUNT_NEGATIVE", "Amount must not be negative.", { "Minor units": units });
  }
  assertWithinLedgerWidth(units, units.toString());
  if (exponent === 0) return units.toString();
  const digits = units.toString().padStart(exponent + 1, "0");
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
