import { encodeFunctionData, type Hex } from "viem";

import { encodePaymentBatch } from "../../protocol/batch.ts";
import {
  fromWireFxPayment,
  fromWireFxQuote,
  type WireFxPayment,
  type WireFxQuote,
} from "../../protocol/fxWire.ts";
import { fxSettlementAbi, settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import type { SignedPayment } from "../../protocol/types.ts";
import { fromWirePayment, type WirePayment, type WireRefund } from "../../protocol/wire.ts";
import type { RelayerConfig } from "../config.ts";
import type { StoredRequest } from "../store/types.ts";

/** A stored payment's body, as `validatePayment` wrote it. */
interface PaymentBody {
  payment: WirePayment;
  signature: Hex;
  smartAccount?: boolean;
}

/** A stored refund's body, as `validateRefund` wrote it. */
interface RefundBody {
  refund: WireRefund;
  payment: WirePayment;
  signature: Hex;
  batchRoot: Hex;
  proof: Hex[];
}

/** A stored cross-currency payment's body, as `validateFxPayment` wrote it. */
interface FxBody {
  quote: WireFxQuote;
  quoteSignature: Hex;
  payment: WireFxPayment;
  signature: Hex;
  smartAccount?: boolean;
}

/**
 * Fixed gas of one batch beyond its items: intrinsic, registry calls, Merkle root, `BatchSettled`. A batch of one
 * payment to a merchant never paid before measures 109,478 gas and each further one about 24,000
 * (`test/relayer/batcher.test.ts` checks the budget against the ledger), so the fixed part is about 86,000.
 */
const BATCH_OVERHEAD_GAS = 100_000;

/**
 * The gas budgeted for one stored request when sizing a batch: the configured per-item figure, plus, for
 * ERC-1271 payers, the ERC-1271 figure and the signature's calldata (their wallets' checks may use up to the
 * ledger's 200,000 stipend).
 *
 * @example
 * itemGasBudget(request, config.batch); // 30_000 for an ECDSA payment by default
 */
export function itemGasBudget(request: StoredRequest, budgets: RelayerConfig["batch"]): number {
  if (request.kind === "refund") return budgets.gasPerRefund;
  const body = JSON.parse(request.body) as PaymentBody | FxBody;
  const smartAccount = body.smartAccount === true;
  const erc1271 = budgets.gasPerErc1271Payment + 16 * ((body.signature.length - 2) / 2);
  if (request.kind === "fx") return budgets.gasPerFxPayment + (smartAccount ? erc1271 : 0);
  return smartAccount ? erc1271 : budgets.gasPerPayment;
}

/**
 * How many of `requests`, in order, fit a transaction under `gasCap` by their budgets (at least one).
 *
 * @example
 * const count = fittingPrefix(claimed, config.batch);
 */
export function fittingPrefix(requests: readonly StoredRequest[], budgets: RelayerConfig["batch"]): number {
  let total = BATCH_OVERHEAD_GAS;
  let count = 0;
  for (const request of requests) {
    total += itemGasBudget(request, budgets);
    if (total > budgets.gasCap && count > 0) break;
    count++;
  }
  return count;
}

/** The budgeted gas of a batch of these requests. */
export function batchGasBudget(requests: readonly StoredRequest[], budgets: RelayerConfig["batch"]): bigint {
  return BigInt(
    requests.reduce((total, request) => total + itemGasBudget(request, budgets), BATCH_OVERHEAD_GAS),
  );
}

/**
 * Whether every request in the batch is a payment (same- or cross-currency) signed by an ECDSA key, whose gas
 * the budget bounds. Estimating instead costs the node a search of many executions of the whole batch.
 */
export function isBudgetable(requests: readonly StoredRequest[]): boolean {
  return requests.every(
    (request) => request.kind !== "refund" && !request.body.includes('"smartAccount":true'),
  );
}

/**
 * The calldata for a batch of stored requests of one kind and currency: the ledger's `settlePayments` with the
 * packed encoding, or `refundPayments` with each refund's payment, batch root and proof; or the FX contract's
 * `settleFxPayments` with each payment and its quote.
 *
 * @example
 * const data = batchCalldata(claimed); // "0x…"
 */
export function batchCalldata(requests: readonly StoredRequest[]): Hex {
  if (requests[0]?.kind === "fx") {
    return encodeFunctionData({
      abi: fxSettlementAbi,
      functionName: "settleFxPayments",
      args: [
        requests.map((request) => {
          const body = JSON.parse(request.body) as FxBody;
          const wire = body.payment;
          return {
            quote: fromWireFxQuote(body.quote),
            quoteSignature: body.quoteSignature,
            payment: fromWireFxPayment(wire),
            payerSignature: body.signature,
          };
        }),
      ],
    });
  }
  if (requests[0]?.kind === "refund") {
    return encodeFunctionData({
      abi: settlementLedgerAbi,
      functionName: "refundPayments",
      args: [
        requests.map((request) => {
          const body = JSON.parse(request.body) as RefundBody;
          return {
            payment: fromWirePayment(body.payment),
            batchRoot: body.batchRoot,
            proof: body.proof,
            amount: BigInt(body.refund.amount),
            nonce: BigInt(body.refund.nonce),
            deadline: BigInt(body.refund.deadline),
            signature: body.signature,
          };
        }),
      ],
    });
  }
  const signed = requests.map((request): SignedPayment => {
    const body = JSON.parse(request.body) as PaymentBody;
    return {
      payment: fromWirePayment(body.payment),
      signature: body.signature,
      smartAccount: body.smartAccount === true,
    };
  });
  const { currency, payees, items } = encodePaymentBatch(signed);
  return encodeFunctionData({
    abi: settlementLedgerAbi,
    functionName: "settlePayments",
    args: [currency, payees, items],
  });
}
