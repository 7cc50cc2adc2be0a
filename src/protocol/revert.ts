import { decodeErrorResult, type Hex } from "viem";

import { bankRegistryAbi, settlementLedgerAbi } from "./generated/abi.ts";

/** A contract revert decoded into its custom error's name and arguments. */
export interface DecodedRevert {
  /** Custom error name, e.g. `InsufficientReserves`. */
  name: string;
  /** The offending values, in declaration order. */
  args: readonly unknown[];
  /** The parameter names of the error, in the same order (e.g. `["bankId", "currency", ...]`). */
  argNames: readonly string[];
}

const abis = [settlementLedgerAbi, bankRegistryAbi] as const;

/**
 * Decodes revert data from either QRSettle contract (the ledger bubbles up registry errors), or returns
 * undefined for data that matches no known error.
 *
 * @example
 * decodeRevert("0x5b1a2b3c...") // { name: "UnauthorizedRelayer", args: ["0x..."], argNames: ["caller"] }
 */
export function decodeRevert(data: Hex): DecodedRevert | undefined {
  for (const abi of abis) {
    try {
      const { errorName, args, abiItem } = decodeErrorResult({ abi, data });
      // viem's type says otherwise, but an error without parameters (e.g. `NetworkPaused()`) has no `args`.
      const values = (args as readonly unknown[] | undefined) ?? [];
      return { name: errorName, args: values, argNames: abiItem.inputs.map((input) => input.name) };
    } catch {
      // Not this contract's error; try the next ABI.
    }
  }
  return undefined;
}

/**
 * The raw revert data inside an error thrown by viem, ethers or a JSON-RPC provider, found by walking its
 * `cause` chain (and ethers' `info.error`), or undefined if there is none.
 *
 * @example
 * try { await ledger.write.settlePayments(args) } catch (e) { console.log(decodeRevert(revertData(e) ?? "0x")) }
 */
export function revertData(error: unknown): Hex | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const {
      data,
      cause,
      info,
      error: inner,
    } = current as {
      data?: unknown;
      cause?: unknown;
      info?: { error?: unknown };
      error?: unknown;
    };
    if (typeof data === "string" && /^0x[0-9a-fA-F]{8,}$/.test(data)) return data as Hex;
    if (typeof data === "object" && data !== null) queue.push(data);
    queue.push(cause, info?.error, inner);
  }
  return undefined;
}
