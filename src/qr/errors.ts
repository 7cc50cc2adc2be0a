/**
 * Every error the QR module throws is a `QrError`: a short message for people, "Key: value" detail lines for
 * context, a stable `code` for programs, and the `cause` that led to it. The subclasses only narrow `code`,
 * so `instanceof QrParseError` tells a caller which family of failure it is looking at.
 */

import { QRSettleError } from "../protocol/errors.ts";

/** Stable identifiers of decode failures: the payload cannot be read as EMV MPM at all. */
export type QrParseErrorCode =
  "EMPTY_PAYLOAD" | "TLV_MALFORMED_HEADER" | "TLV_TRUNCATED" | "TLV_LENGTH_OVERRUN" | "TEMPLATE_BROKEN";

/** Stable identifiers of structural rule violations that make a payload ambiguous or unverifiable. */
export type QrStructureErrorCode =
  "DUPLICATE_ID" | "PAYLOAD_FORMAT_INDICATOR_NOT_FIRST" | "CRC_NOT_LAST" | "CRC_MISSING";

/** Stable identifiers of checksum failures. */
export type QrCrcErrorCode = "CRC_MALFORMED" | "CRC_MISMATCH";

/**
 * Stable identifiers of EMV MPM content rules. The lenient decoder reports a broken rule as a warning with
 * this code; the strict encoder refuses the input with a `QrEncodeError` carrying the same code.
 */
export type EmvRuleCode =
  | "PAYLOAD_FORMAT_INDICATOR_UNEXPECTED"
  | "POINT_OF_INITIATION_INVALID"
  | "MISSING_MANDATORY"
  | "MISSING_MERCHANT_ACCOUNT"
  | "INVALID_ID"
  | "DUPLICATE_ID"
  | "VALUE_EMPTY"
  | "VALUE_TOO_LONG"
  | "VALUE_LENGTH"
  | "VALUE_FORMAT"
  | "AMOUNT_INVALID"
  | "AMOUNT_DECIMALS"
  | "TIP_RULES"
  | "TEMPLATE_WITHOUT_GUI"
  | "TEMPLATE_NOT_TLV"
  | "RFU_ID"
  | "ZERO_LENGTH"
  | "PAYLOAD_TOO_LONG"
  | "CRC_LOWERCASE";

/** Stable identifiers of rules the strict encoder enforces. */
export type QrEncodeErrorCode = EmvRuleCode;

/** Stable identifiers of QRSettle request failures (our templates, on top of a valid EMV payload). */
export type QrRequestErrorCode =
  | "QRSETTLE_TEMPLATE_MISSING"
  | "QRSETTLE_FIELD_MISSING"
  | "QRSETTLE_FIELD_INVALID"
  | "QRSETTLE_FIELD_DUPLICATED"
  | "QRSETTLE_CURRENCY_UNKNOWN"
  | "QRSETTLE_AMOUNT_INVALID"
  | "QRSETTLE_EXPIRED"
  | "QRSETTLE_NO_FREE_TEMPLATE_ID";

/** Stable identifiers of EIP-681 URI failures. */
export type Eip681ErrorCode =
  | "EIP681_SCHEME"
  | "EIP681_TARGET"
  | "EIP681_CHAIN_ID"
  | "EIP681_FUNCTION"
  | "EIP681_PARAMETER"
  | "EIP681_NUMBER";

/** Stable identifiers of QR image failures. */
export type QrImageErrorCode = "IMAGE_FORMAT_UNSUPPORTED" | "IMAGE_UNREADABLE" | "IMAGE_NO_QR_CODE";

export type QrErrorCode =
  | QrParseErrorCode
  | QrStructureErrorCode
  | QrCrcErrorCode
  | QrEncodeErrorCode
  | QrRequestErrorCode
  | Eip681ErrorCode
  | QrImageErrorCode;

/** Context lines of an error, rendered as "Key: value"; undefined values are left out. */
export type QrErrorDetails = Readonly<Record<string, string | number | bigint | undefined>>;

export type QrErrorParameters<code extends QrErrorCode> = {
  code: code;
  shortMessage: string;
  details?: QrErrorDetails;
  /** The EMV data object the error is about, as "ID" or "ID.SUB", e.g. "63" or "62.05". */
  tag?: string;
  /** Zero-based character (Unicode code point) position in the payload where the problem starts. */
  position?: number;
  cause?: unknown;
};

/**
 * The base of every error thrown by `src/qr`.
 *
 * @example
 * try {
 *   decodeEmvQr(payload);
 * } catch (error) {
 *   if (error instanceof QrError) console.error(error.code, error.tag, error.position);
 * }
 */
export class QrError<code extends QrErrorCode = QrErrorCode> extends QRSettleError {
  override name = "QrError";
  declare readonly code: code;
  readonly tag: string | undefined;
  readonly position: number | undefined;

  constructor(parameters: QrErrorParameters<code>) {
    super(parameters.code, parameters.shortMessage, {
      details: {
        Tag: parameters.tag,
        Position: parameters.position,
        ...parameters.details,
        Cause: parameters.cause instanceof Error ? parameters.cause.message : undefined,
      },
      cause: parameters.cause,
    });
    this.tag = parameters.tag;
    this.position = parameters.position;
  }
}

/**
 * The payload cannot be read as TLV: empty, a header that is not two digits plus two digits, a length that runs
 * past the end of its payload or template, or a template whose content is not TLV.
 *
 * @example
 * decodeEmvQr("000201019912") // throws QrParseError, code "TLV_LENGTH_OVERRUN", tag "01", position 6
 */
export class QrParseError extends QrError<QrParseErrorCode> {
  override name = "QrParseError";
}

/**
 * The payload is readable TLV but breaks a structural rule that makes it ambiguous or unverifiable: an ID twice
 * on one level, "00" not first, "63" not last or missing.
 *
 * @example
 * decodeEmvQr(payloadWithTwoTag59) // throws QrStructureError, code "DUPLICATE_ID", tag "59"
 */
export class QrStructureError extends QrError<QrStructureErrorCode> {
  override name = "QrStructureError";
}

/**
 * The CRC object is not four hex digits, or does not match the payload.
 *
 * @example
 * decodeEmvQr(payload.slice(0, -4) + "0000") // throws QrCrcError, code "CRC_MISMATCH"
 */
export class QrCrcError extends QrError<QrCrcErrorCode> {
  override name = "QrCrcError";
}

/**
 * The strict encoder refused an input the EMV MPM specification forbids; `tag` names the data object and the
 * message the rule.
 *
 * @example
 * encodeEmvQr({ ...input, merchantCity: "A city name that is far too long" }) // QrEncodeError "VALUE_TOO_LONG", tag "60"
 */
export class QrEncodeError extends QrError<QrEncodeErrorCode> {
  override name = "QrEncodeError";
}

/**
 * A payload is valid EMV but not a usable QRSettle request: our templates are missing or malformed, the
 * currency is unknown, the amount does not fit the currency, or the code has expired.
 *
 * @example
 * decodeQrSettleRequest(pixPayload) // throws QrRequestError, code "QRSETTLE_TEMPLATE_MISSING"
 */
export class QrRequestError extends QrError<QrRequestErrorCode> {
  override name = "QrRequestError";
}

/**
 * An `ethereum:` URI is not a QRSettle EIP-681 request.
 *
 * @example
 * parseEip681Uri("bitcoin:1A1z") // throws Eip681Error, code "EIP681_SCHEME"
 */
export class Eip681Error extends QrError<Eip681ErrorCode> {
  override name = "Eip681Error";
}

/**
 * An image could not be read, or holds no readable QR code.
 *
 * @example
 * decodeQrImage(new Uint8Array([1, 2, 3])) // throws QrImageError, code "IMAGE_FORMAT_UNSUPPORTED"
 */
export class QrImageError extends QrError<QrImageErrorCode> {
  override name = "QrImageError";
}
