import { pino, type DestinationStream, type Logger } from "pino";

/** The relayer's logger type: pino, JSON lines, one child per module. */
export type RelayerLogger = Logger;

/**
 * Paths removed from every log line whatever a caller passes: private keys, passwords, API keys and the
 * PostgreSQL URL (it may carry a password). Keys are never put in log objects in the first place; this is the
 * second line of defence.
 */
const REDACTED_PATHS = [
  "privateKey",
  "*.privateKey",
  "password",
  "*.password",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "postgresUrl",
  "*.postgresUrl",
  "secret",
  "*.secret",
];

/**
 * The root logger of one relayer instance. Modules take `logger.child({ module: "batcher" })`.
 *
 * @example
 * const logger = createLogger("info", { instance: "relayer-1" });
 * logger.child({ module: "api" }).info({ port: 8080 }, "listening");
 */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): RelayerLogger {
  const options = {
    level,
    base: { service: "qrsettle-relayer", ...bindings },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
