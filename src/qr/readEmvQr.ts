import { getCurrencyByNumeric } from "../protocol/currencies.ts";
import { codePointLength, matchesFormat, type ValueFormat } from "./characterSets.ts";
import { crc16 } from "./crc16.ts";
import { type EmvRuleCode, QrCrcError } from "./errors.ts";
import { parseEmvPayload } from "./parseEmvPayload.ts";
import type {
  DataObject,
  DecodedAdditionalData,
  DecodedMerchantInformationLanguage,
  DecodedTemplate,
  EmvQrCode,
  PointOfInitiation,
  QrIssue,
  TipOrConvenience,
} from "./types.ts";

type Mutable<value> = { -readonly [key in keyof value]: value[key] };

/** What a data object's value must look like. */
type FieldSpec = {
  readonly name: string;
  readonly format: ValueFormat;
  readonly maxLength: number;
  /** When set, the value must have exactly this many characters. */
  readonly exactLength?: number;
};

const ROOT_FIELDS: Readonly<Record<string, FieldSpec>> = {
  "00": { name: "Payload Format Indicator", format: "N", maxLength: 2, exactLength: 2 },
  "01": { name: "Point of Initiation Method", format: "N", maxLength: 2, exactLength: 2 },
  "52": { name: "Merchant Category Code", format: "N", maxLength: 4, exactLength: 4 },
  "53": { name: "Transaction Currency", format: "N", maxLength: 3, exactLength: 3 },
  "54": { name: "Transaction Amount", format: "ans", maxLength: 13 },
  "55": { name: "Tip or Convenience Indicator", format: "N", maxLength: 2, exactLength: 2 },
  "56": { name: "Value of Convenience Fee Fixed", format: "ans", maxLength: 13 },
  "57": { name: "Value of Convenience Fee Percentage", format: "ans", maxLength: 5 },
  "58": { name: "Country Code", format: "ans", maxLength: 2, exactLength: 2 },
  "59": { name: "Merchant Name", format: "ans", maxLength: 25 },
  "60": { name: "Merchant City", format: "ans", maxLength: 15 },
  "61": { name: "Postal Code", format: "ans", maxLength: 10 },
  "63": { name: "CRC", format: "ans", maxLength: 4, exactLength: 4 },
};

const PRIMITIVE_ACCOUNT: FieldSpec = { name: "Merchant Account Information", format: "ans", maxLength: 99 };
const GUI: FieldSpec = { name: "Globally Unique Identifier", format: "ans", maxLength: 32 };
const TEMPLATE_DATA: Readonly<Record<ValueFormat, FieldSpec>> = {
  N: { name: "Template data", format: "N", maxLength: 99 },
  ans: { name: "Template data", format: "ans", maxLength: 99 },
  S: { name: "Template data", format: "S", maxLength: 99 },
};

const ADDITIONAL_DATA_FIELDS: Readonly<Record<string, FieldSpec & { key: keyof DecodedAdditionalData }>> = {
  "01": { key: "billNumber", name: "Bill Number", format: "ans", maxLength: 25 },
  "02": { key: "mobileNumber", name: "Mobile Number", format: "ans", maxLength: 25 },
  "03": { key: "storeLabel", name: "Store Label", format: "ans", maxLength: 25 },
  "04": { key: "loyaltyNumber", name: "Loyalty Number", format: "ans", maxLength: 25 },
  "05": { key: "referenceLabel", name: "Reference Label", format: "ans", maxLength: 25 },
  "06": { key: "customerLabel", name: "Customer Label", format: "ans", maxLength: 25 },
  "07": { key: "terminalLabel", name: "Terminal Label", format: "ans", maxLength: 25 },
  "08": { key: "purposeOfTransaction", name: "Purpose of Transaction", format: "ans", maxLength: 25 },
  "09": {
    key: "additionalConsumerDataRequest",
    name: "Additional Consumer Data Request",
    format: "ans",
    maxLength: 3,
  },
  "10": { key: "merchantTaxId", name: "Merchant Tax ID", format: "ans", maxLength: 20 },
  "11": { key: "merchantChannel", name: "Merchant Channel", format: "ans", maxLength: 3, exactLength: 3 },
};

const LANGUAGE_FIELDS: Readonly<
  Record<string, FieldSpec & { key: "languagePreference" | "merchantName" | "merchantCity" }>
> = {
  "00": {
    key: "languagePreference",
    name: "Language Preference",
    format: "ans",
    maxLength: 2,
    exactLength: 2,
  },
  "01": { key: "merchantName", name: "Merchant Name—Alternate Language", format: "S", maxLength: 25 },
  "02": { key: "merchantCity", name: "Merchant City—Alternate Language", format: "S", maxLength: 15 },
};

const MANDATORY_ROOT_IDS = ["52", "53", "58", "59", "60"] as const;

/** Payloads longer than this should not be issued (EMV MPM §4.1); scanners are tested up to it. */
const MAX_PAYLOAD_LENGTH = 512;

/** The result of reading a payload whose structure is sound; the CRC may still be wrong. */
export type EmvQrReading = {
  readonly code: EmvQrCode;
  /** Set when tag 63 is malformed or does not match the payload. */
  readonly crcError: QrCrcError | undefined;
};

function tagOf(object: DataObject, parentTag: string | undefined): string {
  return parentTag === undefined ? object.id : `${parentTag}.${object.id}`;
}

class IssueCollector {
  readonly issues: QrIssue<EmvRuleCode>[] = [];

  /** Without surrogates, UTF-16 length is the character count, so values need no recounting. */
  private readonly surrogates: boolean;

  constructor(surrogates: boolean) {
    this.surrogates = surrogates;
  }

  add(code: EmvRuleCode, message: string, object?: DataObject, tag?: string): void {
    this.issues.push({ code, message, tag: tag ?? object?.id, position: object?.position });
  }

  /**
   * Checks a value against its spec, recording at most one issue. The tag is the object's ID, prefixed by its
   * template's tag when it has one; it is only built when there is something to report.
   */
  checkValue(spec: FieldSpec, object: DataObject, parentTag?: string): void {
    const length = this.surrogates ? codePointLength(object.value) : object.value.length;
    if (length === 0) return; // Already reported as ZERO_LENGTH by the reader.
    if (spec.exactLength !== undefined && length !== spec.exactLength) {
      this.add(
        "VALUE_LENGTH",
        `${spec.name} (${tagOf(object, parentTag)}) must be exactly ${spec.exactLength} characters, not ${length}.`,
        object,
        tagOf(object, parentTag),
      );
    } else if (length > spec.maxLength) {
      this.add(
        "VALUE_TOO_LONG",
        `${spec.name} (${tagOf(object, parentTag)}) must be at most ${spec.maxLength} characters, not ${length}.`,
        object,
        tagOf(object, parentTag),
      );
    } else if (!matchesFormat(object.value, spec.format)) {
      this.add(
        "VALUE_FORMAT",
        `${spec.name} (${tagOf(object, parentTag)}) must be ${describeFormat(spec.format)}.`,
        object,
        tagOf(object, parentTag),
      );
    }
  }
}

function describeFormat(format: ValueFormat): string {
  if (format === "N") return "digits only";
  if (format === "ans") return "printable ASCII (0x20-0x7E)";
  return "Unicode text without control characters";
}

function isValidAmount(value: string): boolean {
  return /^\d+(\.\d*)?$/.test(value) && /[1-9]/.test(value);
}

function decimalsOf(amount: string): number {
  const point = amount.indexOf(".");
  return point === -1 ? 0 : amount.length - point - 1;
}

function readTemplate(
  object: DataObject,
  tag: string,
  subFormat: ValueFormat,
  issues: IssueCollector,
): DecodedTemplate {
  if (object.children === undefined) return { id: object.id, value: object.value };
  let globallyUniqueIdentifier: string | undefined;
  const fields: Record<string, string> = {};
  for (const child of object.children) {
    if (child.id === "00") {
      globallyUniqueIdentifier = child.value;
      issues.checkValue(GUI, child, tag);
    } else {
      fields[child.id] = child.value;
      issues.checkValue(TEMPLATE_DATA[subFormat], child, tag);
    }
  }
  if (globallyUniqueIdentifier === undefined) {
    issues.add(
      "TEMPLATE_WITHOUT_GUI",
      `Template ${tag} has no Globally Unique Identifier (sub-tag 00).`,
      object,
      tag,
    );
    return { id: object.id, value: object.value, fields };
  }
  return { id: object.id, value: object.value, globallyUniqueIdentifier, fields };
}

function readAdditionalData(object: DataObject, issues: IssueCollector): DecodedAdditionalData {
  const data: Record<string, unknown> = {};
  const paymentSystemTemplates: DecodedTemplate[] = [];
  const reservedForFutureUse: Record<string, string> = {};
  for (const child of object.children ?? []) {
    const spec = ADDITIONAL_DATA_FIELDS[child.id];
    if (spec !== undefined) {
      data[spec.key] = child.value;
      issues.checkValue(spec, child, "62");
    } else if (Number(child.id) >= 50) {
      paymentSystemTemplates.push(readTemplate(child, `62.${child.id}`, "S", issues));
    } else {
      reservedForFutureUse[child.id] = child.value;
      issues.add(
        "RFU_ID",
        `62.${child.id} is reserved for future use by EMVCo; ignored.`,
        child,
        `62.${child.id}`,
      );
    }
  }
  const consumerDataRequest = data["additionalConsumerDataRequest"];
  if (
    typeof consumerDataRequest === "string" &&
    consumerDataRequest.length <= 3 &&
    !/^(?!.*(.).*\1)[AME]{1,3}$/.test(consumerDataRequest)
  ) {
    issues.add(
      "VALUE_FORMAT",
      'Additional Consumer Data Request (62.09) must be "A", "M", "E", each at most once.',
      undefined,
      "62.09",
    );
  }
  const channel = data["merchantChannel"];
  if (typeof channel === "string" && channel.length === 3 && !/^[0-7][0-3][0-3]$/.test(channel)) {
    issues.add(
      "VALUE_FORMAT",
      "Merchant Channel (62.11) must be media 0-7, location 0-3, presence 0-3.",
      undefined,
      "62.11",
    );
  }
  if (paymentSystemTemplates.length > 0) data["paymentSystemTemplates"] = paymentSystemTemplates;
  if (Object.keys(reservedForFutureUse).length > 0) data["reservedForFutureUse"] = reservedForFutureUse;
  return data;
}

function readLanguageTemplate(
  object: DataObject,
  issues: IssueCollector,
): DecodedMerchantInformationLanguage {
  const language: Record<string, unknown> = {};
  const reservedForFutureUse: Record<string, string> = {};
  for (const child of object.children ?? []) {
    const spec = LANGUAGE_FIELDS[child.id];
    if (spec === undefined) {
      reservedForFutureUse[child.id] = child.value;
      issues.add(
        "RFU_ID",
        `64.${child.id} is reserved for future use by EMVCo; ignored.`,
        child,
        `64.${child.id}`,
      );
    } else {
      language[spec.key] = child.value;
      issues.checkValue(spec, child, "64");
    }
  }
  for (const [subId, key] of [
    ["00", "languagePreference"],
    ["01", "merchantName"],
  ] as const) {
    if (language[key] === undefined) {
      issues.add(
        "MISSING_MANDATORY",
        `Language template 64 lacks mandatory ${subId}.`,
        object,
        `64.${subId}`,
      );
    }
  }
  if (Object.keys(reservedForFutureUse).length > 0) language["reservedForFutureUse"] = reservedForFutureUse;
  return language;
}

function problem(message: string, object: DataObject | undefined, tag: string): TipReading {
  return { problem: { message, object, tag } };
}

type TipReading = {
  readonly tip?: TipOrConvenience;
  readonly problem?: {
    readonly message: string;
    readonly object: DataObject | undefined;
    readonly tag: string;
  };
};

function readTipOrConvenience(
  indicator: DataObject | undefined,
  fixed: DataObject | undefined,
  percentage: DataObject | undefined,
): TipReading {
  if (indicator === undefined) {
    if (fixed !== undefined) return problem("Convenience fee 56 requires indicator 55 = 02.", fixed, "56");
    if (percentage !== undefined)
      return problem("Convenience fee 57 requires indicator 55 = 03.", percentage, "57");
    return {};
  }
  switch (indicator.value) {
    case "01":
      if (fixed !== undefined)
        return problem("Indicator 55 = 01 (prompt for tip) excludes fee 56.", fixed, "56");
      if (percentage !== undefined) {
        return problem("Indicator 55 = 01 (prompt for tip) excludes fee 57.", percentage, "57");
      }
      return { tip: { kind: "prompt" } };
    case "02":
      if (percentage !== undefined)
        return problem("Indicator 55 = 02 (fixed fee) excludes 57.", percentage, "57");
      if (fixed === undefined)
        return problem("Indicator 55 = 02 (fixed fee) requires the fee in 56.", indicator, "56");
      if (!isValidAmount(fixed.value))
        return problem("Convenience fee 56 must be a non-zero amount.", fixed, "56");
      return { tip: { kind: "fixed", fee: fixed.value } };
    case "03": {
      if (fixed !== undefined) return problem("Indicator 55 = 03 (percentage fee) excludes 56.", fixed, "56");
      if (percentage === undefined) {
        return problem("Indicator 55 = 03 (percentage fee) requires the percentage in 57.", indicator, "57");
      }
      const valid = /^\d{1,2}(\.\d{0,2})?$/.test(percentage.value) && /[1-9]/.test(percentage.value);
      if (!valid)
        return problem("Convenience fee 57 must be a percentage from 00.01 to 99.99.", percentage, "57");
      return { tip: { kind: "percentage", percentage: percentage.value } };
    }
    default:
      return problem(
        `Tip or Convenience Indicator 55 must be 01, 02 or 03, not "${indicator.value}".`,
        indicator,
        "55",
      );
  }
}

function checkCrc(payload: string, crcObject: DataObject, issues: IssueCollector): QrCrcError | undefined {
  if (!/^[0-9A-Fa-f]{4}$/.test(crcObject.value)) {
    return new QrCrcError({
      code: "CRC_MALFORMED",
      shortMessage: "CRC (63) must be four hexadecimal digits.",
      tag: "63",
      position: crcObject.position,
      details: { Found: JSON.stringify(crcObject.value) },
    });
  }
  // 63 is last and its value is four ASCII characters, so the checksummed text is all but the last four.
  const expected = crc16(payload.slice(0, payload.length - 4));
  if (crcObject.value.toUpperCase() !== expected) {
    return new QrCrcError({
      code: "CRC_MISMATCH",
      shortMessage: "CRC (63) does not match the payload: it was damaged or edited.",
      tag: "63",
      position: crcObject.position,
      details: { Found: crcObject.value, Expected: expected },
    });
  }
  if (crcObject.value !== expected) {
    issues.add("CRC_LOWERCASE", "CRC (63) is in lowercase hex; EMV emits uppercase.", crcObject, "63");
  }
  return undefined;
}

/**
 * Reads a payload into a typed `EmvQrCode`, recording every rule the content breaks as a warning. Structural
 * failures throw (see `parseEmvPayload`); a bad CRC is returned in `crcError` so callers can still show the
 * content. The decoder, the inspector and the encoder's self-check all go through here, so what the encoder
 * emits is exactly what the decoder accepts without warnings.
 *
 * @example
 * const { code, crcError } = readEmvQr(payload);
 * if (crcError !== undefined) console.warn(crcError.shortMessage, code.merchantName);
 */
export function readEmvQr(payload: string): EmvQrReading {
  const parsed = parseEmvPayload(payload);
  const issues = new IssueCollector(parsed.surrogates);
  issues.issues.push(...parsed.warnings);

  // Root objects by numeric ID: an array lookup, on the hot path of every decode.
  const byId: (DataObject | undefined)[] = new Array<DataObject | undefined>(100);
  const merchantAccounts: DecodedTemplate[] = [];
  const unreservedTemplates: DecodedTemplate[] = [];
  const reservedForFutureUse: Record<string, string> = {};
  let additionalData: DecodedAdditionalData | undefined;
  let merchantInformationLanguage: DecodedMerchantInformationLanguage | undefined;

  for (const object of parsed.dataObjects) {
    const idNumber = Number(object.id);
    byId[idNumber] = object;
    const spec = ROOT_FIELDS[object.id];
    if (spec !== undefined) {
      issues.checkValue(spec, object);
    } else if (idNumber >= 2 && idNumber <= 25) {
      issues.checkValue(PRIMITIVE_ACCOUNT, object);
      merchantAccounts.push({ id: object.id, value: object.value });
    } else if (idNumber >= 26 && idNumber <= 51) {
      merchantAccounts.push(readTemplate(object, object.id, "ans", issues));
    } else if (idNumber === 62) {
      additionalData = readAdditionalData(object, issues);
    } else if (idNumber === 64) {
      merchantInformationLanguage = readLanguageTemplate(object, issues);
    } else if (idNumber >= 65 && idNumber <= 79) {
      reservedForFutureUse[object.id] = object.value;
      issues.add("RFU_ID", `ID ${object.id} is reserved for future use by EMVCo; ignored.`, object);
    } else if (idNumber >= 80) {
      unreservedTemplates.push(readTemplate(object, object.id, "S", issues));
    }
  }

  const payloadFormatIndicator = byId[0]?.value ?? "";
  if (payloadFormatIndicator !== "01") {
    issues.add(
      "PAYLOAD_FORMAT_INDICATOR_UNEXPECTED",
      `Payload Format Indicator (00) is "${payloadFormatIndicator}"; this codec implements "01".`,
      byId[0],
    );
  }
  let pointOfInitiation: PointOfInitiation | undefined;
  const pointOfInitiationMethod = byId[1]?.value;
  if (pointOfInitiationMethod === "11") pointOfInitiation = "static";
  else if (pointOfInitiationMethod === "12") pointOfInitiation = "dynamic";
  else if (pointOfInitiationMethod !== undefined) {
    issues.add(
      "POINT_OF_INITIATION_INVALID",
      `Point of Initiation Method (01) must be 11 (static) or 12 (dynamic), not "${pointOfInitiationMethod}".`,
      byId[1],
    );
  }
  if (merchantAccounts.length === 0) {
    issues.add(
      "MISSING_MERCHANT_ACCOUNT",
      "The payload has no Merchant Account Information (02-51).",
      undefined,
      "02-51",
    );
  }
  for (const id of MANDATORY_ROOT_IDS) {
    if (byId[Number(id)] === undefined) {
      issues.add(
        "MISSING_MANDATORY",
        `Mandatory ${ROOT_FIELDS[id]?.name ?? id} (${id}) is absent.`,
        undefined,
        id,
      );
    }
  }

  const amountObject = byId[54];
  const transactionAmount = amountObject?.value;
  if (amountObject !== undefined && transactionAmount !== undefined && transactionAmount !== "") {
    if (!isValidAmount(transactionAmount)) {
      issues.add(
        "AMOUNT_INVALID",
        `Transaction Amount (54) "${transactionAmount}" must be non-zero digits with at most one ".".`,
        amountObject,
      );
    } else {
      const currency = getCurrencyByNumeric(byId[53]?.value ?? "");
      if (currency !== undefined && decimalsOf(transactionAmount) > currency.exponent) {
        issues.add(
          "AMOUNT_DECIMALS",
          `Transaction Amount (54) has ${decimalsOf(transactionAmount)} decimals; ${currency.alpha} has ${currency.exponent}.`,
          amountObject,
        );
      }
    }
  }
  const countryCode = byId[58]?.value;
  if (countryCode !== undefined && countryCode.length === 2 && !/^[A-Z]{2}$/.test(countryCode)) {
    issues.add(
      "VALUE_FORMAT",
      "Country Code (58) must be two uppercase letters (ISO 3166-1 alpha-2).",
      byId[58],
    );
  }
  const { tip: tipOrConvenience, problem: tipProblem } = readTipOrConvenience(byId[55], byId[56], byId[57]);
  if (tipProblem !== undefined)
    issues.add("TIP_RULES", tipProblem.message, tipProblem.object, tipProblem.tag);
  if ((parsed.surrogates ? codePointLength(payload) : payload.length) > MAX_PAYLOAD_LENGTH) {
    issues.add("PAYLOAD_TOO_LONG", `The payload is longer than ${MAX_PAYLOAD_LENGTH} characters.`);
  }

  const crcObject = byId[63];
  const crcError = crcObject === undefined ? undefined : checkCrc(payload, crcObject, issues);

  // Built field by field rather than with conditional spreads: this object is made on every decode.
  const code: Mutable<EmvQrCode> = {
    payloadFormatIndicator,
    merchantAccounts,
    reservedForFutureUse,
    unreservedTemplates,
    crc: crcObject?.value ?? "",
    warnings: issues.issues,
    dataObjects: parsed.dataObjects,
  };
  if (pointOfInitiation !== undefined) code.pointOfInitiation = pointOfInitiation;
  if (byId[52] !== undefined) code.merchantCategoryCode = byId[52].value;
  if (byId[53] !== undefined) code.transactionCurrency = byId[53].value;
  if (transactionAmount !== undefined) code.transactionAmount = transactionAmount;
  if (tipOrConvenience !== undefined) code.tipOrConvenience = tipOrConvenience;
  if (countryCode !== undefined) code.countryCode = countryCode;
  if (byId[59] !== undefined) code.merchantName = byId[59].value;
  if (byId[60] !== undefined) code.merchantCity = byId[60].value;
  if (byId[61] !== undefined) code.postalCode = byId[61].value;
  if (additionalData !== undefined) code.additionalData = additionalData;
  if (merchantInformationLanguage !== undefined)
    code.merchantInformationLanguage = merchantInformationLanguage;
  return { code, crcError };
}
