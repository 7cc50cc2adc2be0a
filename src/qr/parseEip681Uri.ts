import { formatAmount } from "../protocol/amounts.ts";
import { getCurrencyByNumeric } from "../protocol/currencies.ts";
import { EIP681_FUNCTION, EIP681_PARAMETERS } from "./eip681.ts";
import { Eip681Error } from "./errors.ts";
import type { QrSettlePaymentTarget } from "./qrSettleRequest.ts";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** EIP-681 `number`: optional sign, digits, optional fraction, optional exponent, e.g. "2.014e18". */
const NUMBER = /^([+-]?)(\d*)(?:\.(\d+))?(?:[eE](\d*))?$/;
/** Bounds the work a hostile "1e999999999" could cause; no QRSettle value needs more than 78 digits. */
const MAX_DECIMAL_EXPONENT = 80;

/**
 * Reads an EIP-681 number exactly. EIP-681 allows scientific notation, but the value must be a non-negative
 * integer: "2.014e18" is fine, "1.5" is not.
 */
function parseInteger(text: string, key: string, max: bigint): bigint {
  const match = NUMBER.exec(text);
  const [, sign = "", integerDigits = "", fractionDigits = "", exponentDigits] = match ?? [];
  const fail = (why: string): Eip681Error =>
    new Eip681Error({
      code: "EIP681_NUMBER",
      shortMessage: `Parameter ${key} must be ${why}.`,
      details: { Value: JSON.stringify(text) },
    });
  if (match === null || integerDigits + fractionDigits === "") throw fail("an EIP-681 number");
  if (sign === "-" && /[1-9]/.test(integerDigits + fractionDigits)) throw fail("non-negative");
  const exponent = exponentDigits === undefined || exponentDigits === "" ? 0 : Number(exponentDigits);
  if (exponent > MAX_DECIMAL_EXPONENT) throw fail(`at most 1e${MAX_DECIMAL_EXPONENT}`);
  const mantissa = BigInt(integerDigits + fractionDigits);
  const scale = exponent - fractionDigits.length;
  let value: bigint;
  if (scale >= 0) {
    value = mantissa * 10n ** BigInt(scale);
  } else {
    const divisor = 10n ** BigInt(-scale);
    if (mantissa % divisor !== 0n) throw fail("an integer");
    value = mantissa / divisor;
  }
  if (value > max) throw fail(`at most ${max}`);
  return value;
}

function parameterError(shortMessage: string, details: Record<string, string>): Eip681Error {
  return new Eip681Error({ code: "EIP681_PARAMETER", shortMessage, details });
}

/**
 * Reads a QRSettle EIP-681 URI (as written by `toEip681Uri`) back into a payment target. The amount comes
 * back as a decimal string with exactly the currency's number of decimals ("88.50" for 8850 HKD cents).
 *
 * @throws {Eip681Error} EIP681_SCHEME, EIP681_TARGET, EIP681_CHAIN_ID (missing or zero), EIP681_FUNCTION (not
 *   `payQr`), EIP681_PARAMETER (unknown, misplaced, repeated or missing parameter; unknown currency),
 *   EIP681_NUMBER.
 *
 * @example
 * parseEip681Uri(
 *   "ethereum:pay-0x5fbdb2315678afecb367f032d93f642f64180aa3@31337/payQr?uint16=2" +
 *     "&address=0x70997970c51812dc3a010c7d01b50e0d17dc79c8&uint16=344&uint256=8850",
 * )
 * // { chainId: 31337n, ledger: "0x5fbd…0aa3", payeeBank: 2, payee: "0x7099…79c8", currency: 344, amount: "88.50" }
 */
export function parseEip681Uri(uri: string): QrSettlePaymentTarget {
  if (!/^ethereum:/i.test(uri)) {
    throw new Eip681Error({
      code: "EIP681_SCHEME",
      shortMessage: 'URI must start with "ethereum:".',
      details: { URI: uri },
    });
  }
  const match = /^ethereum:(?:pay-)?([^@/?]*)(?:@([^/?]*))?(?:\/([^?]*))?(?:\?(.*))?$/is.exec(uri);
  const [, target = "", chainIdText, functionName, query = ""] = match ?? [];
  if (!ADDRESS.test(target)) {
    throw new Eip681Error({
      code: "EIP681_TARGET",
      shortMessage:
        'Target must be the ledger address, "0x" and 40 hex digits (ENS names are not supported).',
      details: { Target: target },
    });
  }
  if (chainIdText === undefined || !/^\d+$/.test(chainIdText) || BigInt(chainIdText) === 0n) {
    throw new Eip681Error({
      code: "EIP681_CHAIN_ID",
      shortMessage: 'URI must pin a positive chain id with "@<chainId>".',
      details: { "Chain id": chainIdText ?? "(none)" },
    });
  }
  if (functionName !== EIP681_FUNCTION) {
    throw new Eip681Error({
      code: "EIP681_FUNCTION",
      shortMessage: `URI must call /${EIP681_FUNCTION}.`,
      details: { Function: functionName ?? "(none)" },
    });
  }

  const values = new Map<string, string>();
  let next = 0;
  for (const pair of query === "" ? [] : query.split("&")) {
    const separator = pair.indexOf("=");
    const key = separator === -1 ? pair : pair.slice(0, separator);
    const value = separator === -1 ? "" : pair.slice(separator + 1);
    // Skip optional parameters the URI leaves out until the key matches the next expected type.
    while (
      next < EIP681_PARAMETERS.length &&
      EIP681_PARAMETERS[next]?.type !== key &&
      EIP681_PARAMETERS[next]?.optional
    ) {
      next++;
    }
    const parameter = EIP681_PARAMETERS[next];
    if (parameter?.type !== key) {
      throw parameterError(
        `Unexpected parameter "${key}": ${EIP681_FUNCTION} takes ${EIP681_PARAMETERS.map((p) => p.type).join(", ")} in that order.`,
        {
          Parameter: pair,
        },
      );
    }
    values.set(parameter.field, value);
    next++;
  }
  for (const parameter of EIP681_PARAMETERS) {
    if (!parameter.optional && !values.has(parameter.field)) {
      throw parameterError(`Parameter ${parameter.type} (${parameter.field}) is missing.`, { URI: uri });
    }
  }

  const payee = values.get("payee") ?? "";
  if (!ADDRESS.test(payee)) throw parameterError('Payee must be "0x" and 40 hex digits.', { Payee: payee });
  const currencyCode = Number(parseInteger(values.get("currency") ?? "", "uint16 (currency)", 999n));
  const currency = getCurrencyByNumeric(currencyCode);
  if (currency === undefined) {
    throw parameterError("Currency is not an ISO 4217 numeric code QRSettle knows.", {
      Currency: String(currencyCode),
    });
  }
  const amountText = values.get("amount");
  const units =
    amountText === undefined ? undefined : parseInteger(amountText, "uint256 (amount)", 2n ** 256n - 1n);
  if (units === 0n) throw parameterError("Amount must not be zero.", { Amount: amountText ?? "" });
  let amount: string | undefined;
  try {
    amount = units === undefined ? undefined : formatAmount(units, currency.exponent);
  } catch (error) {
    throw new Eip681Error({
      code: "EIP681_NUMBER",
      shortMessage: "Amount does not fit the ledger's balance width.",
      details: { Amount: amountText ?? "" },
      cause: error,
    });
  }
  let reference: string | undefined;
  const referenceText = values.get("reference");
  if (referenceText !== undefined) {
    try {
      reference = decodeURIComponent(referenceText);
    } catch (error) {
      throw new Eip681Error({
        code: "EIP681_PARAMETER",
        shortMessage: "Reference is not valid percent-encoded UTF-8.",
        details: { Reference: referenceText },
        cause: error,
      });
    }
  }
  const expiryText = values.get("expiry");
  const expiry =
    expiryText === undefined ? undefined : parseInteger(expiryText, "uint64 (expiry)", 2n ** 64n - 1n);
  return {
    chainId: BigInt(chainIdText),
    ledger: `0x${target.slice(2).toLowerCase()}`,
    payeeBank: Number(parseInteger(values.get("payeeBank") ?? "", "uint16 (payee bank)", 65535n)),
    payee: `0x${payee.slice(2).toLowerCase()}`,
    currency: currency.numeric,
    ...(amount === undefined ? {} : { amount }),
    ...(reference === undefined ? {} : { reference }),
    ...(expiry === undefined ? {} : { expiry }),
  };
}
