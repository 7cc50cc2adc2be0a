import type {
  DecodedTemplate,
  EmvQrCode,
  EmvQrInput,
  EmvTemplateInput,
  MerchantAccountInput,
} from "./types.ts";

const LABELS = [
  "billNumber",
  "mobileNumber",
  "storeLabel",
  "loyaltyNumber",
  "referenceLabel",
  "customerLabel",
  "terminalLabel",
  "purposeOfTransaction",
  "additionalConsumerDataRequest",
  "merchantTaxId",
  "merchantChannel",
] as const;

function template(decoded: DecodedTemplate): EmvTemplateInput {
  return {
    id: decoded.id,
    globallyUniqueIdentifier: decoded.globallyUniqueIdentifier ?? "",
    fields: decoded.fields ?? {},
  };
}

/**
 * Turns a decoded payload back into encoder input, e.g. to change a field and re-encode. Templates that were
 * not TLV and reserved IDs are dropped, and mandatory fields the payload lacked become "", so re-encoding a
 * payload that broke the rules fails with the encoder's error instead of repeating the mistake.
 *
 * @example
 * const code = decodeEmvQr(payload);
 * const edited = encodeEmvQr({ ...toEmvQrInput(code), transactionAmount: "12.00", pointOfInitiation: "dynamic" });
 */
export function toEmvQrInput(code: EmvQrCode): EmvQrInput {
  const merchantAccounts: MerchantAccountInput[] = code.merchantAccounts.map((account) =>
    account.fields === undefined ? { id: account.id, value: account.value } : template(account),
  );
  const data = code.additionalData ?? {};
  const labels: Record<string, string> = {};
  for (const key of LABELS) {
    const value = data[key];
    if (value !== undefined) labels[key] = value;
  }
  const paymentSystemTemplates = data.paymentSystemTemplates;
  const language = code.merchantInformationLanguage;
  return {
    ...(code.pointOfInitiation === undefined ? {} : { pointOfInitiation: code.pointOfInitiation }),
    merchantAccounts,
    merchantCategoryCode: code.merchantCategoryCode ?? "",
    transactionCurrency: code.transactionCurrency ?? "",
    ...(code.transactionAmount === undefined ? {} : { transactionAmount: code.transactionAmount }),
    ...(code.tipOrConvenience === undefined ? {} : { tipOrConvenience: code.tipOrConvenience }),
    countryCode: code.countryCode ?? "",
    merchantName: code.merchantName ?? "",
    merchantCity: code.merchantCity ?? "",
    ...(code.postalCode === undefined ? {} : { postalCode: code.postalCode }),
    ...(code.additionalData === undefined
      ? {}
      : {
          additionalData: {
            ...labels,
            ...(paymentSystemTemplates === undefined
              ? {}
              : {
                  paymentSystemTemplates: paymentSystemTemplates
                    .filter((item) => item.fields !== undefined)
                    .map(template),
                }),
          },
        }),
    ...(language === undefined
      ? {}
      : {
          merchantInformationLanguage: {
            languagePreference: language.languagePreference ?? "",
            merchantName: language.merchantName ?? "",
            ...(language.merchantCity === undefined ? {} : { merchantCity: language.merchantCity }),
          },
        }),
    unreservedTemplates: code.unreservedTemplates.filter((item) => item.fields !== undefined).map(template),
  };
}
