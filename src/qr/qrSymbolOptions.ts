import type { QrOpts } from "qr";

/** Options every QR image renderer takes. */
export type QrSymbolOptions = {
  /**
   * Error correction level: "low" 7 %, "medium" 15 % (default), "quartile" 25 %, "high" 30 % of the symbol
   * may be damaged. Higher levels mean denser codes.
   */
  readonly errorCorrection?: "low" | "medium" | "quartile" | "high";
  /** Quiet zone around the symbol in modules, at least 1; ISO/IEC 18004 asks for 4 (the default). */
  readonly margin?: number;
};

/**
 * Symbol options for an EMV payload. EMV MPM §4.12 requires byte mode, so it is forced even when the payload
 * would fit a denser mode (an all-uppercase PromptPay payload fits alphanumeric). Text becomes UTF-8 bytes;
 * the `qr` library cannot write an ECI header, and scanners read byte mode as UTF-8 when it is valid UTF-8.
 *
 * @example
 * encodeQR(payload, "svg", toQrOptions({ errorCorrection: "quartile" })) // byte mode, quiet zone of 4
 */
export function toQrOptions(options: QrSymbolOptions, scale?: number): QrOpts {
  return {
    encoding: "byte",
    ecc: options.errorCorrection ?? "medium",
    border: options.margin ?? 4,
    ...(scale === undefined ? {} : { scale }),
  };
}
