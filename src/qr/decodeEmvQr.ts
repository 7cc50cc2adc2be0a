import { readEmvQr } from "./readEmvQr.ts";
import type { EmvQrCode } from "./types.ts";

/**
 * Decodes an EMV Merchant-Presented Mode payload, leniently: deviations real codes show (missing 52/59/60, a
 * payload format indicator other than "01", reserved IDs, an over-long city, a lowercase CRC, an unreserved
 * template holding raw data) are accepted and listed in `warnings`. What cannot be read or verified throws.
 *
 * @throws {QrParseError} The payload is not TLV: EMPTY_PAYLOAD, TLV_TRUNCATED, TLV_MALFORMED_HEADER,
 *   TLV_LENGTH_OVERRUN, TEMPLATE_BROKEN. `position` and `tag` say where.
 * @throws {QrStructureError} DUPLICATE_ID, PAYLOAD_FORMAT_INDICATOR_NOT_FIRST, CRC_MISSING, CRC_NOT_LAST.
 * @throws {QrCrcError} CRC_MALFORMED or CRC_MISMATCH.
 *
 * @example
 * const code = decodeEmvQr(
 *   "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR" +
 *     "5913Fulano de Tal6008BRASILIA62070503***63041D3D",
 * );
 * code.merchantAccounts[0]?.globallyUniqueIdentifier // "br.gov.bcb.pix"
 * code.merchantName // "Fulano de Tal"
 * code.warnings // []
 */
export function decodeEmvQr(payload: string): EmvQrCode {
  const { code, crcError } = readEmvQr(payload);
  if (crcError !== undefined) throw crcError;
  return code;
}
