import { parseAmount } from "../protocol/amounts.ts";
import { formatCurrencyNumeric, getCurrencyByNumeric } from "../protocol/currencies.ts";
import { encodeEmvQr } from "./encodeEmvQr.ts";
import { QrRequestError } from "./errors.ts";
import { QRSETTLE_GUI, type QrSettleRequest, QrSettleSubTag } from "./qrSettleRequest.ts";
import type { AdditionalDataInput, EmvTemplateInput, MerchantAccountInput } from "./types.ts";

export type EncodeQrSettleRequestOptions = {
  /**
   * Other networks' merchant accounts to carry alongside ours, e.g. a PIX template in 26 or UnionPay's
   * primitive 15, as real multi-network codes do. EMV requires at least one merchant account (02-51); when
   * this is empty, a template with QRSettle's GUI is written in 26 so the payload stays valid EMV.
   */
  readonly merchantAccounts?: readonly MerchantAccountInput[];
  /** Other unreserved templates (80-99) to carry; ours take the lowest free IDs after them. */
  readonly unreservedTemplates?: readonly EmvTemplateInput[];
  /** Other additional data (62); the Reference Label 62.05 is ours. */
  readonly additionalData?: Omit<AdditionalDataInput, "referenceLabel">;
  /** Tag 61. */
  readonly postalCode?: string;
};

const MAX_UINT16 = 0xffff;
const MAX_UINT64 = 2n ** 64n - 1n;
const MAX_CHAIN_ID_DIGITS = 36;

function invalid(field: string, rule: string, tag: string, value: unknown): QrRequestError {
  return new QrRequestError({
    code: "QRSETTLE_FIELD_INVALID",
    shortMessage: `${field} ${rule}.`,
    tag,
    details: { Value: String(value) },
  });
}

function hexAddress(address: string, field: string, tag: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address))
    throw invalid(field, 'must be "0x" and 40 hex digits', tag, address);
  return address.slice(2).toLowerCase();
}

/** The two lowest unreserved IDs (80-99) that the merchant's other templates leave free. */
function freeTemplateIds(taken: readonly EmvTemplateInput[]): readonly [string, string] {
  const used = new Set<string>();
  for (const template of taken) used.add(template.id);
  const free: string[] = [];
  for (let id = 80; id <= 99 && free.length < 2; id++) if (!used.has(String(id))) free.push(String(id));
  const [network, merchant] = free;
  if (network === undefined || merchant === undefined) {
    throw new QrRequestError({
      code: "QRSETTLE_NO_FREE_TEMPLATE_ID",
      shortMessage:
        "QRSettle needs two free unreserved template IDs (80-99); the other templates use them all.",
    });
  }
  return [network, merchant];
}

/**
 * Encodes a QRSettle payment request as an EMV MPM payload: the standard fields (52, 53, 54, 58, 59, 60, 01,
 * 62.05 for the reference, 64 for a name in another script), plus our two unreserved templates with GUI
 * "io.qrsettle". Strict: a request the format cannot carry throws.
 *
 * @throws {QrRequestError} QRSETTLE_FIELD_INVALID (chain id, addresses, bank id, expiry, reference "***", or a
 *   static code with an amount / dynamic code without), QRSETTLE_CURRENCY_UNKNOWN, QRSETTLE_AMOUNT_INVALID,
 *   QRSETTLE_NO_FREE_TEMPLATE_ID.
 * @throws {QrEncodeError} An EMV rule is broken, e.g. a merchant name over 25 characters.
 *
 * @example
 * const payload = encodeQrSettleRequest({
 *   chainId: 31337n,
 *   ledger: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
 *   payeeBank: 2,
 *   payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
 *   currency: 344,
 *   amount: "88.50",
 *   reference: "INV-2024-0042",
 *   expiry: 1767225600n,
 *   merchantName: "Golden Dragon Tea",
 *   merchantCity: "Hong Kong",
 *   countryCode: "HK",
 *   mcc: "5812",
 *   pointOfInitiation: "dynamic",
 * });
 * // "000201010212...80...io.qrsettle...81...6304...."
 */
export function encodeQrSettleRequest(
  request: QrSettleRequest,
  options: EncodeQrSettleRequestOptions = {},
): string {
  const chainId = request.chainId.toString();
  if (request.chainId <= 0n || chainId.length > MAX_CHAIN_ID_DIGITS) {
    throw invalid(
      "Chain id",
      `must be a positive integer of at most ${MAX_CHAIN_ID_DIGITS} digits`,
      "01",
      chainId,
    );
  }
  if (!Number.isInteger(request.payeeBank) || request.payeeBank < 0 || request.payeeBank > MAX_UINT16) {
    throw invalid("Payee bank", "must be an integer from 0 to 65535 (uint16)", "03", request.payeeBank);
  }
  if (request.expiry !== undefined && (request.expiry < 0n || request.expiry > MAX_UINT64)) {
    throw invalid("Expiry", "must be unix seconds from 0 to 2^64-1", "05", request.expiry);
  }
  const currency = getCurrencyByNumeric(request.currency);
  if (currency === undefined) {
    throw new QrRequestError({
      code: "QRSETTLE_CURRENCY_UNKNOWN",
      shortMessage: "Currency is not an ISO 4217 numeric code QRSettle knows.",
      tag: "53",
      details: { Currency: request.currency },
    });
  }
  if ((request.pointOfInitiation === "static") !== (request.amount === undefined)) {
    throw invalid(
      "Amount",
      request.pointOfInitiation === "static"
        ? "must be absent in a static code (the payer types it)"
        : "is required in a dynamic code",
      "54",
      request.amount,
    );
  }
  if (request.amount !== undefined) {
    let units: bigint;
    try {
      units = parseAmount(request.amount, currency.exponent);
    } catch (error) {
      throw new QrRequestError({
        code: "QRSETTLE_AMOUNT_INVALID",
        shortMessage: `Amount is not a valid ${currency.alpha} amount.`,
        tag: "54",
        details: { Amount: request.amount },
        cause: error,
      });
    }
    if (units === 0n) throw invalid("Amount", "must not be zero", "54", request.amount);
  }
  if (request.reference === "***") {
    throw invalid(
      "Reference",
      'must be a real reference; "***" would make the payer\'s app ask for one',
      "62.05",
      "***",
    );
  }

  const otherTemplates = options.unreservedTemplates ?? [];
  const [networkId, merchantId] = freeTemplateIds(otherTemplates);
  const networkTemplate: EmvTemplateInput = {
    id: networkId,
    globallyUniqueIdentifier: QRSETTLE_GUI,
    fields: {
      [QrSettleSubTag.chainId]: chainId,
      [QrSettleSubTag.ledger]: hexAddress(request.ledger, "Ledger", `${networkId}.${QrSettleSubTag.ledger}`),
    },
  };
  const merchantTemplate: EmvTemplateInput = {
    id: merchantId,
    globallyUniqueIdentifier: QRSETTLE_GUI,
    fields: {
      [QrSettleSubTag.payeeBank]: request.payeeBank.toString(),
      [QrSettleSubTag.payee]: hexAddress(request.payee, "Payee", `${merchantId}.${QrSettleSubTag.payee}`),
      ...(request.expiry === undefined ? {} : { [QrSettleSubTag.expiry]: request.expiry.toString() }),
    },
  };
  const merchantAccounts =
    options.merchantAccounts !== undefined && options.merchantAccounts.length > 0
      ? options.merchantAccounts
      : [{ id: "26", globallyUniqueIdentifier: QRSETTLE_GUI }];
  const additionalData: AdditionalDataInput = {
    ...options.additionalData,
    ...(request.reference === undefined ? {} : { referenceLabel: request.reference }),
  };
  return encodeEmvQr({
    pointOfInitiation: request.pointOfInitiation,
    merchantAccounts,
    merchantCategoryCode: request.mcc,
    transactionCurrency: formatCurrencyNumeric(currency.numeric),
    ...(request.amount === undefined ? {} : { transactionAmount: request.amount }),
    countryCode: request.countryCode,
    merchantName: request.merchantName,
    merchantCity: request.merchantCity,
    ...(options.postalCode === undefined ? {} : { postalCode: options.postalCode }),
    ...(Object.keys(additionalData).length === 0 ? {} : { additionalData }),
    ...(request.alternateLanguage === undefined
      ? {}
      : { merchantInformationLanguage: request.alternateLanguage }),
    unreservedTemplates: [...otherTemplates, networkTemplate, merchantTemplate],
  });
}
