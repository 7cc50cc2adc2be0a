import encodeQR from "qr";

import { type QrSymbolOptions, toQrOptions } from "./qrSymbolOptions.ts";

/**
 * Renders a payload as an SVG QR code (one unit per module, scale it with CSS or width/height attributes).
 *
 * @example
 * import { writeFileSync } from "node:fs";
 * writeFileSync("merchant.svg", renderQrSvg(payload));
 */
export function renderQrSvg(payload: string, options: QrSymbolOptions = {}): string {
  return encodeQR(payload, "svg", toQrOptions(options));
}
