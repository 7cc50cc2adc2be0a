import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { decodeQR } from "qr/decode.js";

import { QrImageError } from "./errors.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
/** Refuse images whose pixels would need more memory than a phone photo does. */
const MAX_MEGAPIXELS = 50;

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return signature.every((byte, index) => bytes[index] === byte);
}

function readPixels(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  try {
    if (startsWith(bytes, PNG_SIGNATURE)) {
      // pngjs converts every colour type and bit depth to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    if (startsWith(bytes, JPEG_SIGNATURE)) {
      return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS });
    }
  } catch (error) {
    throw new QrImageError({
      code: "IMAGE_UNREADABLE",
      shortMessage: "The image file is damaged.",
      cause: error,
    });
  }
  throw new QrImageError({
    code: "IMAGE_FORMAT_UNSUPPORTED",
    shortMessage: "Only PNG and JPEG images are supported.",
    details: {
      "First bytes": Array.from(bytes.subarray(0, 4), (byte) => byte.toString(16).padStart(2, "0")).join(" "),
    },
  });
}

/**
 * Finds and reads the QR code in a PNG or JPEG image, returning its text (byte mode is read as UTF-8, so
 * non-ASCII merchant names come back intact). Photos get the decoder's full retry effort.
 *
 * @throws {QrImageError} IMAGE_FORMAT_UNSUPPORTED, IMAGE_UNREADABLE or IMAGE_NO_QR_CODE.
 *
 * @example
 * import { readFileSync } from "node:fs";
 * const payload = decodeQrImage(readFileSync("merchant.jpg"));
 * decodeEmvQr(payload);
 */
export function decodeQrImage(bytes: Uint8Array): string {
  const image = readPixels(bytes);
  try {
    return decodeQR(image, { effort: Infinity, timeLimit: Infinity });
  } catch (error) {
    throw new QrImageError({
      code: "IMAGE_NO_QR_CODE",
      shortMessage: "No readable QR code was found in the image.",
      details: { Width: image.width, Height: image.height },
      cause: error,
    });
  }
}
