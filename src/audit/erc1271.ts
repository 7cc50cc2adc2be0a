import { encodeFunctionData, size, type Address, type Hex, type PublicClient } from "viem";

import type { Evidence, FindingCollector } from "./findings.ts";

/** The ERC-1271 answer that means "valid". */
const MAGIC_VALUE = "0x1626ba7e";
/** Gas the ledger gives a wallet's `isValidSignature` (`SignatureLib.ERC1271_GAS`). */
const ERC1271_GAS = 200_000n;
const isValidSignatureAbi = [
  {
    type: "function",
    name: "isValidSignature",
    stateMutability: "view",
    inputs: [
      { name: "hash", type: "bytes32" },
      { name: "signature", type: "bytes" },
    ],
    outputs: [{ name: "magicValue", type: "bytes4" }],
  },
] as const;

/**
 * Whether the smart account `account` accepted `signature` for `digest` (ERC-1271) when the ledger asked,
 * by an `eth_call` from the ledger with the gas the ledger gives. The wallet's state is taken before the
 * block and, failing that, after it: the ledger asked at some point in between, and a wallet deployed or
 * re-keyed within that very block is only seen by one of the two.
 *
 * @returns true or false, or `undefined` when the node cannot answer for that block (not an archive node).
 * @example
 * await isValidErc1271Signature(client, { account, digest, signature, blockNumber, ledger });
 */
export async function isValidErc1271Signature(
  client: PublicClient,
  request: { account: Address; digest: Hex; signature: Hex; blockNumber: bigint; ledger: Address },
): Promise<boolean | undefined> {
  const data = encodeFunctionData({
    abi: isValidSignatureAbi,
    functionName: "isValidSignature",
    args: [request.digest, request.signature],
  });
  let answered = false;
  for (const blockNumber of [request.blockNumber - 1n, request.blockNumber]) {
    try {
      const { data: result } = await client.call({
        account: request.ledger,
        to: request.account,
        data,
        blockNumber,
        gas: ERC1271_GAS + intrinsicGas(data),
      });
      answered = true;
      if (result !== undefined && size(result) >= 32 && result.slice(0, 10) === MAGIC_VALUE) return true;
    } catch (error) {
      // A revert is the wallet's "no"; only a node that has no state for the block leaves us unanswered.
      if (!isMissingState(error)) answered = true;
    }
  }
  return answered ? false : undefined;
}

/**
 * `isValidErc1271Signature` within an audit check: when the node cannot answer for that block, the signature is
 * counted under `check` and fails it with `evidence`, since nobody could verify it.
 *
 * @example
 * const valid = await auditErc1271Signature(client, findings, "signatures.payer", { ...request, evidence });
 */
export async function auditErc1271Signature(
  client: PublicClient,
  findings: FindingCollector,
  check: "signatures.payer" | "signatures.refund",
  request: Parameters<typeof isValidErc1271Signature>[1] & { evidence: Evidence },
): Promise<boolean | undefined> {
  const { evidence, ...call } = request;
  const valid = await isValidErc1271Signature(client, call);
  if (valid === undefined) {
    findings.examined(check);
    const what = check === "signatures.refund" ? "refund signature" : "signature";
    findings.fail({
      check,
      message: `an ERC-1271 ${what} could not be checked: the node has no state for that block`,
      evidence,
    });
  }
  return valid;
}

/** Gas of the transaction envelope of an `eth_call`, so the wallet itself gets the ledger's 200,000. */
function intrinsicGas(data: Hex): bigint {
  let gas = 21_000n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4n : 16n;
  return gas;
}

/** Whether an error says the node has no state for the block (pruned), as Geth, Besu and Erigon word it. */
function isMissingState(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (
      /missing trie node|header not found|unknown block|state.{0,20}(not available|unavailable|pruned)/i.test(
        current.message,
      )
    ) {
      return true;
    }
  }
  return false;
}
