import { QRSettleError, type QRSettleErrorOptions } from "../protocol/errors.ts";
import { API_ERRORS, type ApiErrorCode } from "./api/errorCodes.ts";

/**
 * Base of the relayer's own errors (configuration, store, chain, keys). `code` is stable.
 *
 * @example
 * throw new RelayerError("CONFIG_INVALID", "store.postgresUrl is required when store.kind is postgres.");
 */
export class RelayerError extends QRSettleError {
  override name = "RelayerError";
}

/**
 * An error the HTTP API answers with: `code` is one of `API_ERRORS`, which fixes its number and HTTP status.
 * `shortMessage` is sent to the client; `details` go to the log only.
 *
 * @example
 * throw new ApiError("NONCE_IN_QUEUE", "Nonce 7 of 0xabc… is already queued.", { details: { existing: id } });
 */
export class ApiError extends QRSettleError {
  override name = "ApiError";
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Stable number of the code. */
  readonly number: number;

  constructor(code: ApiErrorCode, shortMessage: string, options: QRSettleErrorOptions = {}) {
    super(code, shortMessage, options);
    this.status = API_ERRORS[code].status;
    this.number = API_ERRORS[code].number;
  }
}
