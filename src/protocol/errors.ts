/** Optional context of a {@link QRSettleError}. */
export interface QRSettleErrorOptions {
  /** Context lines shown under the message as "Key: value". */
  details?: Record<string, string | number | bigint | boolean | undefined>;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base of every error QRSettle's TypeScript code throws: a stable machine-readable `code`, a short message
 * saying what was wrong, and context lines saying where.
 *
 * @example
 * throw new QRSettleError("BATCH_MIXED_CURRENCIES", "All payments in a batch must share one currency.", {
 *   details: { index: 3, expected: 156, got: 344 },
 * });
 */
export class QRSettleError extends Error {
  override name = "QRSettleError";
  /** Stable identifier, e.g. `BATCH_FIELD_OUT_OF_RANGE`; scripts and API clients match on it. */
  readonly code: string;
  /** The one-line message without the context lines. */
  readonly shortMessage: string;
  /** The context lines, "Key: value", as rendered into `message`. */
  readonly details: readonly string[];

  constructor(code: string, shortMessage: string, options: QRSettleErrorOptions = {}) {
    const lines = Object.entries(options.details ?? {}).flatMap(([key, value]) =>
      value === undefined ? [] : [`${key}: ${String(value)}`],
    );
    super(lines.length === 0 ? shortMessage : `${shortMessage}\n\n${lines.join("\n")}`, {
      cause: options.cause,
    });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = lines;
  }
}

/**
 * Numbered context lines for an error that reports several problems at once.
 *
 * @example
 * new QRSettleError("NETWORK_FILE_INVALID", "The network file is not valid.", {
 *   details: { File: file, ...numberedDetails("Problem", problems) },
 * });
 */
export function numberedDetails(label: string, lines: readonly string[]): Record<string, string> {
  return Object.fromEntries(lines.map((line, i): [string, string] => [`${label} ${i + 1}`, line]));
}
