import { crc16 } from "./crc16.ts";
import { QrError } from "./errors.ts";
import { flattenDataObjects } from "./flattenDataObjects.ts";
import { QRSETTLE_GUI, type QrSettleRequest } from "./qrSettleRequest.ts";
import { readEmvQr } from "./readEmvQr.ts";
import { readQrSettleRequest, type ReadQrSettleRequestOptions } from "./readQrSettleRequest.ts";
import type { EmvQrCode, QrIssue } from "./types.ts";

/** Everything known about a payload, valid or not; the CLI's `--json` output is built from it. */
export type EmvQrInspection = {
  /** No errors: the payload is readable, its CRC matches, and QRSettle templates, if any, are valid. */
  readonly valid: boolean;
  /** The payload ends in "6304" and four hex digits that match the CRC of everything before them. */
  readonly crcValid: boolean;
  readonly errors: readonly QrIssue[];
  readonly warnings: readonly QrIssue[];
  /** Every data object by "ID" and "ID.SUB"; empty when the payload cannot be read as TLV. */
  readonly flat: Readonly<Record<string, string>>;
  /** The decoded payload, when its structure could be read. */
  readonly code?: EmvQrCode;
  /** The QRSettle request, when the payload carries QRSettle templates and they are valid. */
  readonly qrsettle?: QrSettleRequest;
};

function toIssue(error: unknown): QrIssue {
  if (!(error instanceof QrError)) throw error;
  const qrError = error as QrError;
  return {
    code: qrError.code,
    message: qrError.shortMessage,
    ...(qrError.tag === undefined ? {} : { tag: qrError.tag }),
    ...(qrError.position === undefined ? {} : { position: qrError.position }),
  };
}

function crcMatches(payload: string): boolean {
  return (
    /6304[0-9A-Fa-f]{4}$/.test(payload) && crc16(payload.slice(0, -4)) === payload.slice(-4).toUpperCase()
  );
}

/**
 * Reports on a payload without throwing for bad input: whether it is valid, whether its CRC matches, every
 * error and warning, and every data object flattened by ID. The CRC is judged on the raw text, so it is
 * reported even when the structure is broken. Unexpected failures (bugs) still throw.
 *
 * @example
 * const report = inspectEmvQr(payload.slice(0, -1) + "0");
 * report.valid // false
 * report.errors[0]?.code // "CRC_MISMATCH"
 * report.flat["59"] // the merchant name, still readable
 */
export function inspectEmvQr(payload: string, options: ReadQrSettleRequestOptions = {}): EmvQrInspection {
  const crcValid = crcMatches(payload);
  let reading: ReturnType<typeof readEmvQr>;
  try {
    reading = readEmvQr(payload);
  } catch (error) {
    return { valid: false, crcValid, errors: [toIssue(error)], warnings: [], flat: {} };
  }
  const { code, crcError } = reading;
  const errors: QrIssue[] = crcError === undefined ? [] : [toIssue(crcError)];
  let qrsettle: QrSettleRequest | undefined;
  if (
    code.unreservedTemplates.some(
      (template) => template.globallyUniqueIdentifier?.toLowerCase() === QRSETTLE_GUI,
    )
  ) {
    try {
      qrsettle = readQrSettleRequest(code, options);
    } catch (error) {
      errors.push(toIssue(error));
    }
  }
  return {
    valid: errors.length === 0,
    crcValid,
    errors,
    warnings: code.warnings,
    flat: flattenDataObjects(code.dataObjects),
    code,
    ...(qrsettle === undefined ? {} : { qrsettle }),
  };
}
