/**
 * QRSettle's own data inside an EMV MPM payload: what it is and where it goes.
 *
 * A template value holds at most 99 characters, and two 40-hex-digit addresses with their headers (2 × 44)
 * plus the GUI object (15) already need 103. So the sub-objects of our GUI are split over two unreserved
 * templates that both carry GUI "io.qrsettle" and use disjoint sub-tags: the network template holds 01 and 02,
 * the merchant template 03 to 05. The reference goes in 62.05, the Reference Label EMV defines for it.
 * docs/qr.md has the arithmetic.
 */
import type { MerchantInformationLanguageInput, PointOfInitiation } from "./types.ts";

/**
 * Reverse-domain Globally Unique Identifier of QRSettle's unreserved templates.
 *
 * @example
 * decodeEmvQr(payload).unreservedTemplates.filter((template) => template.globallyUniqueIdentifier === QRSETTLE_GUI)
 */
export const QRSETTLE_GUI = "io.qrsettle";

/**
 * Sub-tags of QRSettle's templates. 01-02 go in the network template, 03-05 in the merchant template.
 *
 * @example
 * decodeEmvQr(payload).unreservedTemplates[1]?.fields?.[QrSettleSubTag.payee] // "70997970c518…"
 */
export const QrSettleSubTag = {
  /** EIP-155 chain id, decimal, 1-36 digits. */
  chainId: "01",
  /** Settlement ledger contract address, 40 hex digits without "0x". */
  ledger: "02",
  /** Payee's bank id in the ledger's bank registry, decimal uint16. */
  payeeBank: "03",
  /** Payee's account, 40 hex digits without "0x". */
  payee: "04",
  /** Last second the code may be paid, unix seconds, decimal uint64. */
  expiry: "05",
} as const;

/** A QRSettle payment request: what a payer's app needs to build and sign the payment. */
export type QrSettleRequest = {
  /** EIP-155 chain id of the settlement network. */
  readonly chainId: bigint;
  /** Settlement ledger contract, lowercase hex. */
  readonly ledger: `0x${string}`;
  /** Payee's bank id (uint16). */
  readonly payeeBank: number;
  /** Payee's account, lowercase hex. */
  readonly payee: `0x${string}`;
  /** ISO 4217 numeric currency code, from tag 53. */
  readonly currency: number;
  /** Tag 54 as a decimal string; absent for static codes, where the payer types the amount. */
  readonly amount?: string;
  /** 62.05 Reference Label; absent when the payload has none or "***". */
  readonly reference?: string;
  /** Unix seconds: the last second at which the code may be paid. */
  readonly expiry?: bigint;
  /** Tag 59. */
  readonly merchantName: string;
  /** Tag 60. */
  readonly merchantCity: string;
  /** Tag 58, ISO 3166-1 alpha-2. */
  readonly countryCode: string;
  /** Tag 52, ISO 18245 merchant category code. */
  readonly mcc: string;
  /** Tag 01: "static" codes carry no amount, "dynamic" codes carry one. */
  readonly pointOfInitiation: PointOfInitiation;
  /** Tag 64: name and city in another script, e.g. Chinese; tag 59 must stay printable ASCII. */
  readonly alternateLanguage?: MerchantInformationLanguageInput;
};

/** The parts of a request an EIP-681 URI carries: who is paid, where, in what, how much. */
export type QrSettlePaymentTarget = Pick<
  QrSettleRequest,
  "chainId" | "ledger" | "payeeBank" | "payee" | "currency" | "amount" | "reference" | "expiry"
>;
