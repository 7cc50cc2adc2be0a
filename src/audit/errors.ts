import { QRSettleError, type QRSettleErrorOptions } from "../protocol/errors.ts";

/** Stable identifiers of everything that stops an audit before it can report. */
export type AuditErrorCode =
  "AUDIT_DEPLOYMENT_MISMATCH" | "AUDIT_STORE_CORRUPT" | "AUDIT_STORE_MISMATCH" | "AUDIT_RPC";

/**
 * Thrown when the audit cannot run at all: a deployment file that does not match the chain, a store written for another deployment
 * or damaged, an RPC endpoint that keeps failing. Failed checks are not errors; they are findings in the
 * report.
 *
 * @example
 * try {
 *   await runAudit(options);
 * } catch (error) {
 *   if (error instanceof AuditError && error.code === "AUDIT_DEPLOYMENT_MISMATCH") console.error(error.message);
 * }
 */
export class AuditError extends QRSettleError {
  override name = "AuditError";
  declare readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, shortMessage: string, options: QRSettleErrorOptions = {}) {
    super(code, shortMessage, options);
  }
}
