import { parseAmount } from "../protocol/amounts.ts";
import { getCurrencyByNumeric } from "../protocol/currencies.ts";
import { EIP681_FUNCTION } from "./eip681.ts";
import { Eip681Error } from "./errors.ts";
import type { QrSettlePaymentTarget } from "./qrSettleRequest.ts";

/**
 * Writes a QRSettle request as an EIP-681 `ethereum:` URI: the ledger is the target, `@chainId` pins the
 * chain, and `payQr`'s typed parameters carry payee bank, payee, currency, amount (in minor units, the
 * ledger's atomic unit), reference and expiry.
 *
 * @throws {Eip681Error} EIP681_TARGET for a malformed address, EIP681_CHAIN_ID, EIP681_PARAMETER for an
 *   unknown currency or an amount it cannot hold.
 *
 * @example
 * toEip681Uri({
 *   chainId: 31337n,
 *   ledger: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
 *   payeeBank: 2,
 *   payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
 *   currency: 344,
 *   amount: "88.50",
 *   reference: "INV-2024-0042",
 * })
 * // "ethereum:pay-0x5fbdb2315678afecb367f032d93f642f64180aa3@31337/payQr?uint16=2&address=0x70997970c51812dc3a010c7d01b50e0d17dc79c8&uint16=344&uint256=8850&string=INV-2024-0042"
 */
export function toEip681Uri(target: QrSettlePaymentTarget): string {
  for (const [field, address] of [
    ["ledger", target.ledger],
    ["payee", target.payee],
  ] as const) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
      throw new Eip681Error({
        code: "EIP681_TARGET",
        shortMessage: `The ${field} must be "0x" and 40 hex digits.`,
        details: { Value: address },
      });
    }
  }
  if (target.chainId <= 0n) {
    throw new Eip681Error({
      code: "EIP681_CHAIN_ID",
      shortMessage: "Chain id must be positive.",
      details: { "Chain id": target.chainId },
    });
  }
  if (!Number.isInteger(target.payeeBank) || target.payeeBank < 0 || target.payeeBank > 0xffff) {
    throw new Eip681Error({
      code: "EIP681_PARAMETER",
      shortMessage: "Payee bank must be an integer from 0 to 65535 (uint16).",
      details: { "Payee bank": target.payeeBank },
    });
  }
  const currency = getCurrencyByNumeric(target.currency);
  if (currency === undefined) {
    throw new Eip681Error({
      code: "EIP681_PARAMETER",
      shortMessage: "Currency is not an ISO 4217 numeric code QRSettle knows.",
      details: { Currency: target.currency },
    });
  }
  const parameters = [
    `uint16=${target.payeeBank}`,
    `address=${target.payee.toLowerCase()}`,
    `uint16=${currency.numeric}`,
  ];
  if (target.amount !== undefined) {
    let units: bigint;
    try {
      units = parseAmount(target.amount, currency.exponent);
    } catch (error) {
      throw new Eip681Error({
        code: "EIP681_PARAMETER",
        shortMessage: `Amount is not a valid ${currency.alpha} amount.`,
        details: { Amount: target.amount },
        cause: error,
      });
    }
    parameters.push(`uint256=${units}`);
  }
  if (target.reference !== undefined) parameters.push(`string=${encodeURIComponent(target.reference)}`);
  if (target.expiry !== undefined) parameters.push(`uint64=${target.expiry}`);
  return `ethereum:pay-${target.ledger.toLowerCase()}@${target.chainId}/${EIP681_FUNCTION}?${parameters.join("&")}`;
}
