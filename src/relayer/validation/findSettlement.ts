import { getAbiItem, type Address, type Hex, type PublicClient } from "viem";

import { batchOutcomes } from "../../protocol/events.ts";
import { settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import { batchProof } from "../../protocol/merkle.ts";

const paymentSettled = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentSettled" });

/** Where a payment settled: its batch's root, the proof of the payment under it, and the transaction. */
export interface Settlement {
  batchRoot: Hex;
  proof: Hex[];
  transactionHash: Hex;
}

/**
 * Finds a payment's `PaymentSettled` event within the last `lookbackBlocks` blocks (by its indexed payer and
 * payee) and builds the Merkle proof a refund needs from the batch's receipt. Undefined if it did not settle.
 *
 * @example
 * const settlement = await findSettlement(client, ledger, payment.payer, payment.payee, paymentId, 100_000);
 */
export async function findSettlement(
  client: PublicClient,
  ledger: Address,
  payer: Address,
  payee: Address,
  paymentId: Hex,
  lookbackBlocks: number,
): Promise<Settlement | undefined> {
  const head = await client.getBlockNumber({ cacheTime: 0 });
  const logs = await client.getLogs({
    address: ledger,
    event: paymentSettled,
    args: { payer, payee },
    fromBlock: head > BigInt(lookbackBlocks) ? head - BigInt(lookbackBlocks) : 0n,
    toBlock: head,
  });
  const log = logs.find((entry) => entry.args.paymentId?.toLowerCase() === paymentId.toLowerCase());
  if (log === undefined) return undefined;
  const receipt = await client.getTransactionReceipt({ hash: log.transactionHash });
  for (const outcome of batchOutcomes(receipt.logs, ledger)) {
    const ids = outcome.settled.map((settled) => settled.paymentId.toLowerCase() as Hex);
    const index = ids.indexOf(paymentId.toLowerCase() as Hex);
    if (index >= 0)
      return { batchRoot: outcome.root, proof: batchProof(ids, index), transactionHash: log.transactionHash };
  }
  return undefined;
}
