import type { Hex } from "viem";

import type { RequestStatus, StoredRequest } from "./store/types.ts";

/** A payment or refund as the API and webhooks show it. */
export interface RequestView {
  id: Hex;
  status: RequestStatus;
  /** Why it was rejected (the ledger's `RejectReason`) or failed. */
  reason?: string;
  /** The transaction carrying it: the mined one once included, else the latest signed attempt. */
  txHash?: Hex;
  blockNumber?: number;
  /** Blocks from its block to the head, counting its own; present once included. */
  confirmations?: number;
}

/**
 * The public view of a stored request; `head` is the latest block the relayer has seen.
 *
 * @example
 * requestView(await store.getRequest(id), tracker.head);
 */
export function requestView(request: StoredRequest, head?: number): RequestView {
  const view: RequestView = { id: request.id, status: request.status };
  if (request.reason !== undefined) view.reason = request.reason;
  if (request.status !== "accepted" && request.txHash !== undefined) view.txHash = request.txHash;
  if (request.blockNumber !== undefined) {
    view.blockNumber = request.blockNumber;
    if (head !== undefined) view.confirmations = Math.max(0, head - request.blockNumber + 1);
  }
  return view;
}
