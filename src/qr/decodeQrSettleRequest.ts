import { decodeEmvQr } from "./decodeEmvQr.ts";
import type { QrSettleRequest } from "./qrSettleRequest.ts";
import { readQrSettleRequest, type ReadQrSettleRequestOptions } from "./readQrSettleRequest.ts";

/**
 * Decodes a payload into a QRSettle payment request: the EMV payload must be sound (see `decodeEmvQr`) and
 * carry QRSettle's templates (see `readQrSettleRequest`). Other networks' accounts in the same payload are
 * allowed and ignored.
 *
 * @throws {QrParseError | QrStructureError | QrCrcError} The payload is not readable, verifiable EMV.
 * @throws {QrRequestError} It is EMV but not a valid QRSettle request, or it has expired (when `now` is given).
 *
 * @example
 * const request = decodeQrSettleRequest(payload, { now: BigInt(Math.floor(Date.now() / 1000)) });
 * request.amount // "88.50", or undefined for a static code
 * request.currency // 344
 */
export function decodeQrSettleRequest(
  payload: string,
  options: ReadQrSettleRequestOptions = {},
): QrSettleRequest {
  return readQrSettleRequest(decodeEmvQr(payload), options);
}
