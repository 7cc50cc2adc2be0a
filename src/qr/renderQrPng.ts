import { PNG } from "pngjs";
import encodeQR from "qr";

import { type QrSymbolOptions, toQrOptions } from "./qrSymbolOptions.ts";

export type RenderQrPngOptions = QrSymbolOptions & {
  /** Pixels per module (default 8): big enough to print and to scan from a screen. */
  readonly scale?: number;
};

/**
 * Renders a payload as a black-on-white PNG QR code, in byte mode with UTF-8 text, so non-ASCII merchant names
 * survive the round trip.
 *
 * @example
 * import { writeFileSync } from "node:fs";
 * writeFileSync("merchant.png", renderQrPng(payload, { scale: 10 }));
 */
export function renderQrPng(payload: string, options: RenderQrPngOptions = {}): Uint8Array {
  const scale = options.scale ?? 8;
  const modules = encodeQR(payload, "raw", toQrOptions(options));
  const size = modules.length * scale;
  const png = new PNG({ width: size, height: size, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const pixels = Buffer.alloc(size * size, 0xff);
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++)
        pixels.fill(0x00, (y * scale + dy) * size + x * scale, (y * scale + dy) * size + (x + 1) * scale);
    });
  });
  png.data = pixels;
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}
