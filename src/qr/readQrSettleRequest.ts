import { parseAmount } from "../protocol/amounts.ts";
import { getCurrencyByNumeric } from "../protocol/currencies.ts";
import { QrRequestError } from "./errors.ts";
import { QRSETTLE_GUI, type QrSettleRequest, QrSettleSubTag } from "./qrSettleRequest.ts";
import type { DecodedTemplate, EmvQrCode } from "./types.ts";

export type ReadQrSettleRequestOptions = {
  /** Unix seconds "now"; when given, a code whose expiry is before it is refused with QRSETTLE_EXPIRED. */
  readonly now?: bigint;
};

const MAX_UINT16 = 0xffff;
const MAX_UINT64 = 2n ** 64n - 1n;

type Field = { readonly value: string; readonly tag: string };

function missing(what: string, tag: string): QrRequestError {
  return new QrRequestError({ code: "QRSETTLE_FIELD_MISSING", shortMessage: `${what} is missing.`, tag });
}

function invalid(what: string, rule: string, field: Field): QrRequestError {
  return new QrRequestError({
    code: "QRSETTLE_FIELD_INVALID",
    shortMessage: `${what} ${rule}.`,
    tag: field.tag,
    details: { Value: JSON.stringify(field.value) },
  });
}

function address(field: Field, what: string): `0x${string}` {
  if (!/^[0-9a-fA-F]{40}$/.test(field.value)) throw invalid(what, "must be 40 hex digits", field);
  return `0x${field.value.toLowerCase()}`;
}

/** Decimal without leading zeros: "0", or a non-zero digit followed by digits. */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function unsigned(field: Field, what: string, max: bigint, maxDigits: number): bigint {
  if (field.value.length > maxDigits || !DECIMAL.test(field.value)) {
    throw invalid(
      what,
      `must be a decimal integer of at most ${maxDigits} digits without leading zeros`,
      field,
    );
  }
  const value = BigInt(field.value);
  if (value > max) throw invalid(what, `must be at most ${max}`, field);
  return value;
}

function isQrSettleTemplate(template: DecodedTemplate): boolean {
  return template.globallyUniqueIdentifier?.toLowerCase() === QRSETTLE_GUI;
}

function required(fields: ReadonlyMap<string, Field>, subId: string, what: string): Field {
  const field = fields.get(subId);
  if (field === undefined) throw missing(what, `${QRSETTLE_GUI}.${subId}`);
  return field;
}

/**
 * Turns a decoded EMV payload into a QRSettle request: finds the unreserved templates with GUI "io.qrsettle"
 * (in whichever of 80-99 they are), merges their sub-objects, and checks every field.
 *
 * @throws {QrRequestError} QRSETTLE_TEMPLATE_MISSING, QRSETTLE_FIELD_MISSING, QRSETTLE_FIELD_INVALID,
 *   QRSETTLE_FIELD_DUPLICATED, QRSETTLE_CURRENCY_UNKNOWN, QRSETTLE_AMOUNT_INVALID, QRSETTLE_EXPIRED.
 *
 * @example
 * readQrSettleRequest(decodeEmvQr(payload)).payee // "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
 */
export function readQrSettleRequest(
  code: EmvQrCode,
  options: ReadQrSettleRequestOptions = {},
): QrSettleRequest {
  const ours = code.unreservedTemplates.filter(isQrSettleTemplate);
  if (ours.length === 0) {
    throw new QrRequestError({
      code: "QRSETTLE_TEMPLATE_MISSING",
      shortMessage: `The payload has no unreserved template (80-99) with GUI "${QRSETTLE_GUI}".`,
    });
  }
  const fields = new Map<string, Field>();
  for (const template of ours) {
    for (const [subId, value] of Object.entries(template.fields ?? {})) {
      const tag = `${template.id}.${subId}`;
      const earlier = fields.get(subId);
      if (earlier !== undefined) {
        throw new QrRequestError({
          code: "QRSETTLE_FIELD_DUPLICATED",
          shortMessage: `QRSettle sub-tag ${subId} appears in two templates.`,
          tag,
          details: { "First at": earlier.tag },
        });
      }
      fields.set(subId, { value, tag });
    }
  }
  const chainIdField = required(fields, QrSettleSubTag.chainId, "Chain id");
  const chainId = unsigned(chainIdField, "Chain id", 10n ** 36n - 1n, 36);
  if (chainId === 0n) throw invalid("Chain id", "must not be zero", chainIdField);
  const ledger = address(required(fields, QrSettleSubTag.ledger, "Ledger address"), "Ledger address");
  const payeeBank = Number(
    unsigned(required(fields, QrSettleSubTag.payeeBank, "Payee bank"), "Payee bank", BigInt(MAX_UINT16), 5),
  );
  const payee = address(required(fields, QrSettleSubTag.payee, "Payee account"), "Payee account");
  const expiryField = fields.get(QrSettleSubTag.expiry);
  const expiry = expiryField === undefined ? undefined : unsigned(expiryField, "Expiry", MAX_UINT64, 20);

  if (code.transactionCurrency === undefined) throw missing("Transaction Currency", "53");
  const currency = getCurrencyByNumeric(code.transactionCurrency);
  if (currency === undefined) {
    throw new QrRequestError({
      code: "QRSETTLE_CURRENCY_UNKNOWN",
      shortMessage: "Transaction Currency (53) is not an ISO 4217 numeric code QRSettle knows.",
      tag: "53",
      details: { Currency: code.transactionCurrency },
    });
  }
  const amount = code.transactionAmount;
  if (amount !== undefined) {
    let units: bigint;
    try {
      units = parseAmount(amount, currency.exponent);
    } catch (error) {
      throw new QrRequestError({
        code: "QRSETTLE_AMOUNT_INVALID",
        shortMessage: `Transaction Amount (54) is not a valid ${currency.alpha} amount.`,
        tag: "54",
        details: { Amount: amount },
        cause: error,
      });
    }
    if (units === 0n)
      throw invalid("Transaction Amount (54)", "must not be zero", { value: amount, tag: "54" });
  }
  // Without tag 01 the amount decides; with it, QRSettle requires the two to agree.
  const pointOfInitiation = code.pointOfInitiation ?? (amount === undefined ? "static" : "dynamic");
  if ((pointOfInitiation === "static") !== (amount === undefined)) {
    throw invalid(
      "Transaction Amount (54)",
      pointOfInitiation === "static" ? "must be absent in a static code" : "is required in a dynamic code",
      { value: amount ?? "", tag: "54" },
    );
  }
  if (options.now !== undefined && expiry !== undefined && options.now > expiry) {
    throw new QrRequestError({
      code: "QRSETTLE_EXPIRED",
      shortMessage: "The QR code has expired.",
      tag: expiryField?.tag,
      details: { Expiry: expiry, Now: options.now },
    });
  }
  const merchantName = code.merchantName ?? "";
  const merchantCity = code.merchantCity ?? "";
  const countryCode = code.countryCode ?? "";
  const mcc = code.merchantCategoryCode ?? "";
  if (merchantName === "") throw missing("Merchant Name", "59");
  if (merchantCity === "") throw missing("Merchant City", "60");
  if (countryCode === "") throw missing("Country Code", "58");
  if (mcc === "") throw missing("Merchant Category Code", "52");

  const reference = code.additionalData?.referenceLabel;
  const language = code.merchantInformationLanguage;
  return {
    chainId,
    ledger,
    payeeBank,
    payee,
    currency: currency.numeric,
    ...(amount === undefined ? {} : { amount }),
    ...(reference === undefined || reference === "***" ? {} : { reference }),
    ...(expiry === undefined ? {} : { expiry }),
    merchantName,
    merchantCity,
    countryCode,
    mcc,
    pointOfInitiation,
    ...(language?.languagePreference === undefined || language.merchantName === undefined
      ? {}
      : {
          alternateLanguage: {
            languagePreference: language.languagePreference,
            merchantName: language.merchantName,
            ...(language.merchantCity === undefined ? {} : { merchantCity: language.merchantCity }),
          },
        }),
  };
}
