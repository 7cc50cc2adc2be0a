/**
 * What a failed JSON-RPC call means for a relayer, decided from the node's own words. Nodes word the same
 * condition differently (Geth, Besu, Nethermind, Erigon, Hardhat's EDR, Anvil, Arbitrum/OP), so each class
 * lists every wording we know; anything unlisted is `unknown` and is never treated as success.
 */
export type RpcErrorClass =
  /** The node already has this exact transaction. Already submitted: look for a receipt. */
  | "alreadyKnown"
  /** The nonce is used: by one of our attempts (look for a receipt) or by someone else's transaction. */
  | "nonceTooLow"
  /** Another transaction with this nonce is pending at an equal or higher price: an earlier attempt of ours. */
  | "replacementUnderpriced"
  /** The node lacks an earlier nonce (a gap), or refuses to queue ahead of it (Hardhat automine). */
  | "nonceTooHigh"
  /** The fee is below the base fee or the node's minimum: re-price. */
  | "feeTooLow"
  /** The wallet cannot pay for gas. */
  | "insufficientFunds"
  /** The gas limit is above the block's or the transaction cap (EIP-7825). */
  | "gasLimitTooHigh"
  /** The gas limit is below the intrinsic cost or the EIP-7623 calldata floor. */
  | "intrinsicGasTooLow"
  /** Execution reverted (eth_call, eth_estimateGas), or the node refuses an estimate for how it executes. */
  | "reverted"
  /** No answer in time: the call may or may not have taken effect. */
  | "timeout"
  /** The connection failed or the server answered with an HTTP error: may or may not have taken effect. */
  | "network"
  /** The provider throttles us. */
  | "rateLimited"
  | "unknown";

/** Lower-case fragments of node messages, checked in this order (the first match wins). */
const WORDINGS: readonly (readonly [RpcErrorClass, readonly string[]])[] = [
  [
    "replacementUnderpriced",
    [
      "replacement transaction underpriced", // geth, erigon, anvil, hardhat ("Replacement transaction underpriced.")
      "replacement_underpriced", // besu
      "replacement underpriced",
      "replacementnotallowed", // nethermind
      "another transaction with same nonce in the queue", // openethereum
      "already imported with higher fee", // nethermind
    ],
  ],
  [
    "alreadyKnown",
    [
      "already known", // geth, erigon, anvil
      "known transaction", // geth (old), besu ("Known transaction"), hardhat
      "alreadyknown", // nethermind
      "already_known", // besu
      "same hash was already imported", // openethereum
      "transaction already imported",
      "transaction already exists", // anvil
      "tx already exists in cache",
    ],
  ],
  [
    "nonceTooLow",
    [
      "nonce too low", // geth, erigon, anvil, hardhat ("Nonce too low. Expected nonce to be …")
      "nonce_too_low", // besu
      "oldnonce", // nethermind
      "nonce has already been used", // arbitrum
      "transaction nonce is too low",
      "invalid transaction nonce", // older besu
    ],
  ],
  [
    "nonceTooHigh",
    [
      "nonce too high", // geth, anvil, hardhat ("Nonce too high. … can't be queued when automining"), arbitrum
      "nonce_too_high",
      "nonce too far in future", // besu
      "nonce_too_far_in_future_for_sender",
      "noncegap", // nethermind
      "nonce is too far in the future",
    ],
  ],
  [
    "insufficientFunds",
    [
      "insufficient funds", // geth, erigon, anvil, nethermind ("InsufficientFunds")
      "insufficientfunds",
      "upfront_cost_exceeds_balance", // besu
      "upfront cost exceeds", // besu
      "doesn't have enough funds", // hardhat
      "insufficient balance",
    ],
  ],
  [
    "feeTooLow",
    [
      "transaction underpriced", // geth (below the pool's minimum)
      "less than block base fee", // geth: "max fee per gas less than block base fee"
      "gas_price_too_low", // besu
      "gas price below", // besu ("Gas price below configured minimum gas price")
      "is too low for the next block", // hardhat
      "feetoolow", // nethermind
      "maxfeepergas too low",
      "fee cap less than",
      "max fee per gas too low",
    ],
  ],
  [
    "gasLimitTooHigh",
    [
      "exceeds block gas limit", // geth, besu
      "intrinsic gas too high", // anvil ("intrinsic gas too high -- tx.gas_limit > env.block.gas_limit")
      "exceeds transaction gas cap", // hardhat/EDR (EIP-7825)
      "gas limit too high",
      "exceeds the configured cap",
      "gaslimitexceeded", // nethermind
      "exceeds_block_gas_limit",
      "transaction gas limit", // anvil ("transaction gas limit … exceeds …")
    ],
  ],
  [
    "intrinsicGasTooLow",
    [
      "intrinsic gas too low", // geth, anvil
      "transaction requires at least", // hardhat ("Transaction requires at least 21000 gas but got 20000")
      "intrinsic_gas_exceeds_gas_limit", // besu
      "gas limit is too low",
      "floor data gas", // EIP-7623 wordings
      "gas floor",
    ],
  ],
  [
    "reverted",
    [
      "execution reverted",
      "reverted",
      "revert",
      // hardhat/EDR eth_estimateGas: "an internal call runs out of gas regardless of the transaction's gas limit"
      "internal call runs out of gas",
    ],
  ],
  ["rateLimited", ["rate limit", "too many requests", "http status 429"]],
  ["timeout", ["timed out", "timeout", "took too long"]],
  [
    "network",
    [
      "fetch failed",
      "econnrefused",
      "econnreset",
      "socket hang up",
      "other side closed",
      "http request failed",
      "network error",
      "enotfound",
    ],
  ],
];

/** Every message in an error and its `cause` chain (viem puts the node's own words in `details`). */
function messagesOf(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === "object" && current !== null && !seen.has(current)) {
    seen.add(current);
    const { name, message, details, shortMessage, cause, status } = current as Record<string, unknown>;
    for (const part of [name, details, shortMessage, message]) if (typeof part === "string") parts.push(part);
    if (status === 429) parts.push("http status 429");
    current = cause;
  }
  if (typeof error === "string") parts.push(error);
  return parts.join("\n").toLowerCase();
}

/**
 * Classifies a JSON-RPC failure by the node's message.
 *
 * @example
 * try {
 *   await client.request({ method: "eth_sendRawTransaction", params: [raw] });
 * } catch (error) {
 *   if (isAlreadySubmitted(classifyRpcError(error))) await lookForReceipt(hash);
 * }
 */
export function classifyRpcError(error: unknown): RpcErrorClass {
  const text = messagesOf(error);
  for (const [errorClass, fragments] of WORDINGS) {
    if (fragments.some((fragment) => text.includes(fragment))) return errorClass;
  }
  return "unknown";
}

/**
 * Whether a failed `eth_sendRawTransaction` means the transaction (or an earlier attempt with its nonce) has
 * already reached the node: then the right move is to look for a receipt, never to sign again with a new nonce.
 *
 * @example
 * isAlreadySubmitted("nonceTooLow"); // true
 */
export function isAlreadySubmitted(errorClass: RpcErrorClass): boolean {
  return (
    errorClass === "alreadyKnown" || errorClass === "nonceTooLow" || errorClass === "replacementUnderpriced"
  );
}

/**
 * Whether the outcome of a call that failed this way is unknown: it may have taken effect.
 *
 * @example
 * isAmbiguous("timeout"); // true
 */
export function isAmbiguous(errorClass: RpcErrorClass): boolean {
  return errorClass === "timeout" || errorClass === "network" || errorClass === "unknown";
}

/**
 * The node's own words about a failure, short enough for a log line (viem's full message repeats the request
 * body, which for a batch is a hundred kilobytes of calldata).
 *
 * @example
 * logger.warn({ error: rpcErrorMessage(error) }, "broadcast failed");
 */
export function rpcErrorMessage(error: unknown): string {
  const { details, shortMessage, message } = (error ?? {}) as Record<string, unknown>;
  const text = [details, shortMessage, message].find((part) => typeof part === "string" && part !== "");
  return String(text ?? error).slice(0, 300);
}
