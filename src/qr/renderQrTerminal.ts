import encodeQR from "qr";

import { type QrSymbolOptions, toQrOptions } from "./qrSymbolOptions.ts";

/**
 * Renders a payload as a QR code of UTF-8 half blocks ("▀", "▄", "█"), two modules per character cell, light
 * modules drawn, for terminals with a dark background.
 *
 * @example
 * process.stdout.write(renderQrTerminal(payload) + "\n");
 */
export function renderQrTerminal(payload: string, options: QrSymbolOptions = {}): string {
  return encodeQR(payload, "ascii", toQrOptions({ margin: 2, ...options }));
}
