import { getAbiItem, type Address, type Hex, type PublicClient } from "viem";

import { settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import type { StoredRequest } from "../store/types.ts";

const paymentSettled = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentSettled" });
const paymentRefunded = getAbiItem({ abi: settlementLedgerAbi, name: "PaymentRefunded" });
const crossCurrencySettled = getAbiItem({ abi: settlementLedgerAbi, name: "CrossCurrencySettled" });

/** Where a request settled: its transaction and block. */
export interface Settlement {
  hash: Hex;
  blockNumber: number;
}

/**
 * Where requests that a batch did not settle actually settled, if they did: in another transaction of ours
 * (an earlier batch whose receipt we missed) or of anyone holding the signatures. Without this check such a
 * payment would be reported rejected although it was paid. Searches the ledger's events of the last
 * `lookbackBlocks` blocks with one query per kind of request, filtered by signer (by refunded payment for
 * refunds), so a whole rejected batch costs a few queries, not one per request.
 *
 * @example
 * const earlier = await findEarlierSettlements(client, ledger, rejectedRequests, head, 100_000);
 * earlier.get(request.id); // { hash, blockNumber } or undefined
 */
export async function findEarlierSettlements(
  client: PublicClient,
  ledger: Address,
  requests: readonly StoredRequest[],
  head: number,
  lookbackBlocks: number,
): Promise<Map<Hex, Settlement>> {
  const fromBlock = BigInt(Math.max(0, head - lookbackBlocks));
  const of = (kind: StoredRequest["kind"]) => requests.filter((request) => request.kind === kind);
  const distinct = <T>(values: T[]) => [...new Set(values)];
  const [payments, fxPayments, refunds] = [of("payment"), of("fx"), of("refund")];
  const logs = (
    await Promise.all([
      payments.length === 0
        ? []
        : client.getLogs({
            address: ledger,
            event: paymentSettled,
            args: { payer: distinct(payments.map((request) => request.signer)) },
            fromBlock,
          }),
      fxPayments.length === 0
        ? []
        : client.getLogs({
            address: ledger,
            event: crossCurrencySettled,
            args: { payer: distinct(fxPayments.map((request) => request.signer)) },
            fromBlock,
          }),
      refunds.length === 0
        ? []
        : client.getLogs({
            address: ledger,
            event: paymentRefunded,
            args: { paymentId: distinct(refunds.map((request) => request.paymentId as Hex)) },
            fromBlock,
          }),
    ])
  ).flat();
  // Logs and stored ids may differ in case: match in lower case, answer under the stored id.
  const byLowerId = new Map(requests.map((request) => [request.id.toLowerCase(), request.id]));
  const found = new Map<Hex, Settlement>();
  for (const log of logs) {
    if (log.removed) continue;
    const id = byLowerId.get(
      ("refundId" in log.args ? log.args.refundId : log.args.paymentId)?.toLowerCase() ?? "",
    );
    if (id === undefined || found.has(id)) continue;
    found.set(id, { hash: log.transactionHash, blockNumber: Number(log.blockNumber) });
  }
  return found;
}
