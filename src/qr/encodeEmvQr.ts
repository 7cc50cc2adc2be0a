import { codePointLength } from "./characterSets.ts";
import { crc16 } from "./crc16.ts";
import { QrEncodeError, QrError } from "./errors.ts";
import { readEmvQr } from "./readEmvQr.ts";
import type { AdditionalDataInput, EmvQrInput, EmvTemplateInput, MerchantAccountInput } from "./types.ts";

const ADDITIONAL_DATA_IDS = [
  ["01", "billNumber"],
  ["02", "mobileNumber"],
  ["03", "storeLabel"],
  ["04", "loyaltyNumber"],
  ["05", "referenceLabel"],
  ["06", "customerLabel"],
  ["07", "terminalLabel"],
  ["08", "purposeOfTransaction"],
  ["09", "additionalConsumerDataRequest"],
  ["10", "merchantTaxId"],
  ["11", "merchantChannel"],
] as const satisfies readonly (readonly [string, keyof AdditionalDataInput])[];

/** Serializes one data object, refusing what two length digits cannot express. */
function dataObject(id: string, value: string, tag: string): string {
  const length = codePointLength(value);
  if (length === 0) {
    throw new QrEncodeError({
      code: "VALUE_EMPTY",
      shortMessage: `${tag} must not be empty; leave it out instead.`,
      tag,
    });
  }
  if (length > 99) {
    throw new QrEncodeError({
      code: "VALUE_TOO_LONG",
      shortMessage: `${tag} is ${length} characters; a data object holds at most 99, templates included.`,
      tag,
    });
  }
  return `${id}${length < 10 ? "0" : ""}${length}${value}`;
}

function assertId(id: string, min: number, max: number, what: string, tag: string): void {
  const idNumber = /^\d{2}$/.test(id) ? Number(id) : NaN;
  if (!(idNumber >= min && idNumber <= max)) {
    throw new QrEncodeError({
      code: "INVALID_ID",
      shortMessage: `${what} IDs must be two digits from ${String(min).padStart(2, "0")} to ${max}, not "${id}".`,
      tag,
    });
  }
}

function assertUnique(items: readonly { readonly id: string }[], tag: string): void {
  const seen = new Set<string>();
  for (const { id } of items) {
    if (seen.has(id)) {
      throw new QrEncodeError({
        code: "DUPLICATE_ID",
        shortMessage: `ID ${id} appears more than once${tag === "" ? "" : ` in ${tag}`}.`,
        tag: tag === "" ? id : `${tag}.${id}`,
      });
    }
    seen.add(id);
  }
}

function compareIds(left: { readonly id: string }, right: { readonly id: string }): number {
  return Number(left.id) - Number(right.id);
}

function compareEntryIds(left: readonly [string, string], right: readonly [string, string]): number {
  return Number(left[0]) - Number(right[0]);
}

function byId<item extends { readonly id: string }>(items: readonly item[]): item[] {
  return [...items].sort(compareIds);
}

function template(templateInput: EmvTemplateInput, tag: string): string {
  const fields = Object.entries(templateInput.fields ?? {}).sort(compareEntryIds);
  let content = dataObject("00", templateInput.globallyUniqueIdentifier, `${tag}.00`);
  for (const [subId, value] of fields) {
    assertId(subId, 1, 99, `Sub-object of template ${tag}`, `${tag}.${subId}`);
    content += dataObject(subId, value, `${tag}.${subId}`);
  }
  return dataObject(templateInput.id, content, tag);
}

function isTemplate(account: MerchantAccountInput): account is EmvTemplateInput {
  return "globallyUniqueIdentifier" in account;
}

function merchantAccount(account: MerchantAccountInput): string {
  if (isTemplate(account)) {
    assertId(account.id, 26, 51, "Merchant account templates", account.id);
    return template(account, account.id);
  }
  assertId(account.id, 2, 51, "Merchant accounts", account.id);
  return dataObject(account.id, account.value, account.id);
}

function additionalData(input: AdditionalDataInput): string {
  let content = "";
  for (const [subId, key] of ADDITIONAL_DATA_IDS) {
    const value = input[key];
    if (value !== undefined) content += dataObject(subId, value, `62.${subId}`);
  }
  const templates = input.paymentSystemTemplates ?? [];
  assertUnique(templates, "62");
  for (const item of byId(templates)) {
    assertId(item.id, 50, 99, "Payment system templates in 62", `62.${item.id}`);
    content += template(item, `62.${item.id}`);
  }
  // An empty template is not allowed (EMV MPM: "at least one data object"), and means nothing anyway.
  return content === "" ? "" : dataObject("62", content, "62");
}

/**
 * Encodes an EMV Merchant-Presented Mode payload, strictly: anything the specification forbids is refused
 * with a `QrEncodeError` naming the tag and the rule, and the result is checked by decoding it, so every
 * payload this returns decodes with no warnings. Objects are written in ascending ID order, "63" last, with
 * the CRC in uppercase.
 *
 * @throws {QrEncodeError} code says which rule (e.g. VALUE_TOO_LONG, VALUE_FORMAT, AMOUNT_INVALID, TIP_RULES,
 *   INVALID_ID, DUPLICATE_ID, MISSING_MERCHANT_ACCOUNT), `tag` which data object.
 *
 * @example
 * encodeEmvQr({
 *   merchantAccounts: [
 *     { id: "26", globallyUniqueIdentifier: "br.gov.bcb.pix", fields: { "01": "123e4567-e12b-12d1-a456-426655440000" } },
 *   ],
 *   merchantCategoryCode: "0000",
 *   transactionCurrency: "986",
 *   countryCode: "BR",
 *   merchantName: "Fulano de Tal",
 *   merchantCity: "BRASILIA",
 *   additionalData: { referenceLabel: "***" },
 * })
 * // "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
 */
export function encodeEmvQr(input: EmvQrInput): string {
  assertUnique(input.merchantAccounts, "");
  assertUnique(input.unreservedTemplates ?? [], "");
  let body = dataObject("00", "01", "00");
  if (input.pointOfInitiation !== undefined) {
    body += dataObject("01", input.pointOfInitiation === "static" ? "11" : "12", "01");
  }
  for (const account of byId(input.merchantAccounts)) body += merchantAccount(account);
  body += dataObject("52", input.merchantCategoryCode, "52");
  body += dataObject("53", input.transactionCurrency, "53");
  if (input.transactionAmount !== undefined) body += dataObject("54", input.transactionAmount, "54");
  const tip = input.tipOrConvenience;
  if (tip !== undefined) {
    body += dataObject("55", tip.kind === "prompt" ? "01" : tip.kind === "fixed" ? "02" : "03", "55");
    if (tip.kind === "fixed") body += dataObject("56", tip.fee, "56");
    if (tip.kind === "percentage") body += dataObject("57", tip.percentage, "57");
  }
  body += dataObject("58", input.countryCode, "58");
  body += dataObject("59", input.merchantName, "59");
  body += dataObject("60", input.merchantCity, "60");
  if (input.postalCode !== undefined) body += dataObject("61", input.postalCode, "61");
  if (input.additionalData !== undefined) body += additionalData(input.additionalData);
  const language = input.merchantInformationLanguage;
  if (language !== undefined) {
    let content = dataObject("00", language.languagePreference, "64.00");
    content += dataObject("01", language.merchantName, "64.01");
    if (language.merchantCity !== undefined) content += dataObject("02", language.merchantCity, "64.02");
    body += dataObject("64", content, "64");
  }
  for (const item of byId(input.unreservedTemplates ?? [])) {
    assertId(item.id, 80, 99, "Unreserved templates", item.id);
    body += template(item, item.id);
  }
  body += "6304";
  const payload = body + crc16(body);

  let reading: ReturnType<typeof readEmvQr>;
  try {
    reading = readEmvQr(payload);
  } catch (error) {
    // Only raw template values can make our own output unreadable.
    if (!(error instanceof QrError)) throw error;
    throw new QrEncodeError({
      code: "VALUE_FORMAT",
      shortMessage: `A raw merchant account value is not valid TLV: ${error.shortMessage}`,
      tag: error.tag,
      cause: error,
    });
  }
  const [violation] = reading.code.warnings;
  if (violation !== undefined) {
    throw new QrEncodeError({
      code: violation.code,
      shortMessage: violation.message,
      tag: violation.tag,
    });
  }
  return payload;
}
