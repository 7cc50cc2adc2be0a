/**
 * EMV Merchant-Presented Mode QR codes (v1.1) and QRSettle's payment request inside them: decode leniently,
 * encode strictly, EIP-681 URIs both ways, QR images in and out.
 */
export { crc16 } from "./crc16.ts";
export { codePointLength } from "./characterSets.ts";
export { decodeEmvQr } from "./decodeEmvQr.ts";
export { decodeQrImage } from "./decodeQrImage.ts";
export { decodeQrSettleRequest } from "./decodeQrSettleRequest.ts";
export { EIP681_FUNCTION, EIP681_PARAMETERS } from "./eip681.ts";
export { encodeEmvQr } from "./encodeEmvQr.ts";
export { encodeQrSettleRequest, type EncodeQrSettleRequestOptions } from "./encodeQrSettleRequest.ts";
export {
  Eip681Error,
  type Eip681ErrorCode,
  type EmvRuleCode,
  QrCrcError,
  type QrCrcErrorCode,
  QrEncodeError,
  type QrEncodeErrorCode,
  QrError,
  type QrErrorCode,
  QrImageError,
  type QrImageErrorCode,
  QrParseError,
  type QrParseErrorCode,
  QrRequestError,
  type QrRequestErrorCode,
  QrStructureError,
  type QrStructureErrorCode,
} from "./errors.ts";
export { flattenDataObjects } from "./flattenDataObjects.ts";
export { type EmvQrInspection, inspectEmvQr } from "./inspectEmvQr.ts";
export { parseEip681Uri } from "./parseEip681Uri.ts";
export { parseEmvPayload, type ParsedEmvPayload } from "./parseEmvPayload.ts";
export {
  QRSETTLE_GUI,
  type QrSettlePaymentTarget,
  type QrSettleRequest,
  QrSettleSubTag,
} from "./qrSettleRequest.ts";
export type { QrSymbolOptions } from "./qrSymbolOptions.ts";
export { readQrSettleRequest, type ReadQrSettleRequestOptions } from "./readQrSettleRequest.ts";
export { renderQrPng, type RenderQrPngOptions } from "./renderQrPng.ts";
export { renderQrSvg } from "./renderQrSvg.ts";
export { renderQrTerminal } from "./renderQrTerminal.ts";
export { toEip681Uri } from "./toEip681Uri.ts";
export { toEmvQrInput } from "./toEmvQrInput.ts";
export type * from "./types.ts";
