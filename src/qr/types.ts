/**
 * Types shared by the EMV MPM codec, the QRSettle request layer and the CLI.
 */
import type { EmvRuleCode, QrErrorCode } from "./errors.ts";

/** One data object as read from a payload: ID, raw value and, for templates, the objects inside it. */
export type DataObject = {
  /** Two-digit ID, e.g. "26". */
  readonly id: string;
  /** The value exactly as it appears in the payload. */
  readonly value: string;
  /** Zero-based character (code point) position of the ID in the whole payload. */
  readonly position: number;
  /** The data objects inside a template, when the value was read as one. */
  readonly children?: readonly DataObject[];
};

/** A real-world deviation the lenient decoder accepted, or a failure the inspector reports. */
export type QrIssue<code extends QrErrorCode = QrErrorCode> = {
  /** Stable identifier, e.g. "VALUE_TOO_LONG" or "CRC_MISMATCH". */
  readonly code: code;
  /** What is wrong, for people. */
  readonly message: string;
  /** The data object concerned, as "ID" or "ID.SUB". */
  readonly tag?: string;
  /** Zero-based character position in the payload. */
  readonly position?: number;
};

/** "static": one code for many payments, the payer types the amount. "dynamic": one code, one payment. */
export type PointOfInitiation = "static" | "dynamic";

/** Tags 55-57: the payer is asked for a tip, or pays a fixed or percentage convenience fee. */
export type TipOrConvenience =
  | { readonly kind: "prompt" }
  | { readonly kind: "fixed"; readonly fee: string }
  | { readonly kind: "percentage"; readonly percentage: string };

/** A template to encode: its Globally Unique Identifier (sub-tag 00) and its other sub-objects by ID. */
export type EmvTemplateInput = {
  /** "26"-"51" for merchant account information, "80"-"99" for unreserved templates, "50"-"99" inside 62. */
  readonly id: string;
  /** Sub-tag 00: an AID such as "A000000677010111", a UUID without hyphens, or a reverse domain name. */
  readonly globallyUniqueIdentifier: string;
  /** Sub-objects "01"-"99", defined by the GUI's owner. */
  readonly fields?: Readonly<Record<string, string>>;
};

/**
 * A merchant account given as its raw value, exactly as it appears in a payload: a primitive ("02"-"25", e.g.
 * UnionPay's "15"), or a template's TLV content ("26"-"51", e.g. "0014br.gov.bcb.pix0136…"), which the
 * encoder checks like any other template.
 */
export type EmvRawAccountInput = {
  readonly id: string;
  readonly value: string;
};

export type MerchantAccountInput = EmvRawAccountInput | EmvTemplateInput;

/** Tag 62, Additional Data Field Template. Each label may be "***": the payer's app must ask for it. */
export type AdditionalDataInput = {
  /** 62.01 */ readonly billNumber?: string;
  /** 62.02 */ readonly mobileNumber?: string;
  /** 62.03 */ readonly storeLabel?: string;
  /** 62.04 */ readonly loyaltyNumber?: string;
  /** 62.05: QRSettle's payment reference lives here. */ readonly referenceLabel?: string;
  /** 62.06 */ readonly customerLabel?: string;
  /** 62.07 */ readonly terminalLabel?: string;
  /** 62.08 */ readonly purposeOfTransaction?: string;
  /** 62.09: any of "A" (address), "M" (mobile), "E" (email), each at most once. */
  readonly additionalConsumerDataRequest?: string;
  /** 62.10 (v1.1) */ readonly merchantTaxId?: string;
  /** 62.11 (v1.1): three digits, media / location / presence, e.g. "000" for a sticker at an attended counter. */
  readonly merchantChannel?: string;
  /** 62.50-99: payment-system-specific templates. */
  readonly paymentSystemTemplates?: readonly EmvTemplateInput[];
};

/** Tag 64: the merchant's name (and city) in another language, the place for non-ASCII names. */
export type MerchantInformationLanguageInput = {
  /** 64.00: ISO 639-1 code, e.g. "ZH". */ readonly languagePreference: string;
  /** 64.01: up to 25 characters, any script. */ readonly merchantName: string;
  /** 64.02: up to 15 characters, any script. */ readonly merchantCity?: string;
};

/** Everything the strict encoder accepts. Optional fields are left out of the payload. */
export type EmvQrInput = {
  /** Tag 01. Left out when undefined. */
  readonly pointOfInitiation?: PointOfInitiation;
  /** Tags 02-51: at least one. A merchant may carry several networks side by side. */
  readonly merchantAccounts: readonly MerchantAccountInput[];
  /** Tag 52: ISO 18245 four-digit code, "0000" when not applicable. */
  readonly merchantCategoryCode: string;
  /** Tag 53: ISO 4217 numeric code, three digits. */
  readonly transactionCurrency: string;
  /** Tag 54: absent means the payer types the amount. */
  readonly transactionAmount?: string;
  /** Tags 55-57. */
  readonly tipOrConvenience?: TipOrConvenience;
  /** Tag 58: ISO 3166-1 alpha-2. */
  readonly countryCode: string;
  /** Tag 59: printable ASCII, up to 25; put other scripts in `merchantInformationLanguage`. */
  readonly merchantName: string;
  /** Tag 60: printable ASCII, up to 15. */
  readonly merchantCity: string;
  /** Tag 61. */
  readonly postalCode?: string;
  /** Tag 62. */
  readonly additionalData?: AdditionalDataInput;
  /** Tag 64. */
  readonly merchantInformationLanguage?: MerchantInformationLanguageInput;
  /** Tags 80-99. */
  readonly unreservedTemplates?: readonly EmvTemplateInput[];
};

/** A merchant account or template as decoded: raw value always, sub-objects when it was read as TLV. */
export type DecodedTemplate = {
  readonly id: string;
  readonly value: string;
  /** Sub-tag 00, when present. */
  readonly globallyUniqueIdentifier?: string;
  /** Sub-objects other than 00, by ID; absent for primitives and for values that are not TLV. */
  readonly fields?: Readonly<Record<string, string>>;
};

export type DecodedAdditionalData = Omit<AdditionalDataInput, "paymentSystemTemplates"> & {
  readonly paymentSystemTemplates?: readonly DecodedTemplate[];
  /** 62.00 and 62.12-49, which EMVCo reserves; kept so nothing is lost. */
  readonly reservedForFutureUse?: Readonly<Record<string, string>>;
};

export type DecodedMerchantInformationLanguage = Partial<MerchantInformationLanguageInput> & {
  /** 64.03-99, which EMVCo reserves. */
  readonly reservedForFutureUse?: Readonly<Record<string, string>>;
};

/** A decoded EMV MPM payload. Fields the payload lacks are undefined; deviations are in `warnings`. */
export type EmvQrCode = {
  /** Tag 00 as found; anything but "01" is a warning. */
  readonly payloadFormatIndicator: string;
  /** Tag 01; undefined when absent or not "11"/"12". */
  readonly pointOfInitiation?: PointOfInitiation;
  /** Tags 02-51 in payload order. */
  readonly merchantAccounts: readonly DecodedTemplate[];
  readonly merchantCategoryCode?: string;
  readonly transactionCurrency?: string;
  readonly transactionAmount?: string;
  /** Tags 55-57 when consistent; inconsistent combinations are warnings and left out. */
  readonly tipOrConvenience?: TipOrConvenience;
  readonly countryCode?: string;
  readonly merchantName?: string;
  readonly merchantCity?: string;
  readonly postalCode?: string;
  readonly additionalData?: DecodedAdditionalData;
  readonly merchantInformationLanguage?: DecodedMerchantInformationLanguage;
  /** Tags 65-79, which EMVCo reserves; apps must ignore them, we keep them raw. */
  readonly reservedForFutureUse: Readonly<Record<string, string>>;
  /** Tags 80-99 in payload order. */
  readonly unreservedTemplates: readonly DecodedTemplate[];
  /** Tag 63 as found (may be lowercase). */
  readonly crc: string;
  /** Deviations from the specification that the lenient decoder accepted. */
  readonly warnings: readonly QrIssue<EmvRuleCode>[];
  /** The raw data object tree, for tools that need every byte. */
  readonly dataObjects: readonly DataObject[];
};
