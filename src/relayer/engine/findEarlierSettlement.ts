import { getAbiItem, type Address, type Hex, type PublicClient } from "viem";

import { settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import type { StoredRequest } from "../store/types.ts";

const paymentSettled = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentSettled" });
const paymentRefunded = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentRefunded" });
const crossCurrencySettled = getAbiItem({ abi: settlementLedgerAbi, name: "CrossCurrencySettled" });

/**
 * Where a request the ledger rejected as `NonceUsed` actually settled, if it did: in another transaction of
 * ours (an earlier batch whose receipt we missed) or of anyone holding our key. Without this check such a
 * payment would be reported rejected although it was paid. Searches the last `lookbackBlocks` blocks.
 *
 * @example
 * const earlier = await findEarlierSettlement(client, ledger, request, head, 100_000);
 * if (earlier) outcome = { id: request.id, status: "settled", settledIn: earlier };
 */
export async function findEarlierSettlement(
  client: PublicClient,
  ledger: Address,
  request: StoredRequest,
  head: number,
  lookbackBlocks: number,
): Promise<{ hash: Hex; blockNumber: number } | undefined> {
  const fromBlock = BigInt(Math.max(0, head - lookbackBlocks));
  const id = request.id.toLowerCase();
  const logs =
    request.kind === "fx"
      ? (
          await client.getLogs({
            address: ledger,
            event: crossCurrencySettled,
            args: { payer: request.signer },
            fromBlock,
          })
        ).filter((log) => log.args.paymentId?.toLowerCase() === id)
      : request.kind === "payment"
        ? (
            await client.getLogs({
              address: ledger,
              event: paymentSettled,
              args: { payer: request.signer },
              fromBlock,
            })
          ).filter((log) => log.args.paymentId?.toLowerCase() === id)
        : (
            await client.getLogs({
              address: ledger,
              event: paymentRefunded,
              args: { paymentId: request.paymentId as Hex },
              fromBlock,
            })
          ).filter((log) => log.args.refundId?.toLowerCase() === id);
  const log = logs.find((entry) => !entry.removed);
  return log === undefined ? undefined : { hash: log.transactionHash, blockNumber: Number(log.blockNumber) };
}
