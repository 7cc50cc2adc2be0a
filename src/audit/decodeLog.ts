import {
  decodeEventLog,
  toEventSelector,
  type Abi,
  type Address,
  type DecodeEventLogReturnType,
  type Hex,
} from "viem";

import { readPaymentRejected, readPaymentSettled } from "../protocol/events.ts";
import { bankRegistryAbi, fxSettlementAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import type { Evidence } from "./findings.ts";
import type { IndexedLog } from "./store.ts";

/** An event of the ledger, typed from its ABI. */
export type LedgerEvent = DecodeEventLogReturnType<typeof settlementLedgerAbi>;
/** An event of the registry, typed from its ABI. */
export type RegistryEvent = DecodeEventLogReturnType<typeof bankRegistryAbi>;
/** An event of the FX module, typed from its ABI. */
export type FxEvent = DecodeEventLogReturnType<typeof fxSettlementAbi>;

/** A decoded log with where it sits on the chain. */
export type AuditEvent = (
  | ({ contract: "ledger" } & LedgerEvent)
  | ({ contract: "registry" } & RegistryEvent)
  | ({ contract: "fx" } & FxEvent)
) & {
  at: Evidence;
  /** Unix seconds of the log's block. */
  timestamp: number;
};

/**
 * Decodes one stored log of the deployment by the ABI of the contract that emitted it. The two events a
 * batch emits per payment are decoded by hand, as their layout is fixed: it is most of the history.
 *
 * @returns the event, or undefined for a log that is none of its contract's events.
 * @example
 * for (const log of store.logs()) {
 *   const event = decodeLog(log, deployment);
 *   if (event?.eventName === "PaymentSettled") console.log(event.args.paymentId);
 * }
 */
export function decodeLog(
  log: IndexedLog,
  contracts: { registry: Address; ledger: Address; fx: Address },
): AuditEvent | undefined {
  const at: Evidence = {
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
  };
  const base = { at, timestamp: log.timestamp };
  const address = log.address.toLowerCase();
  if (address === contracts.ledger.toLowerCase()) {
    const settled = readPaymentSettled(log);
    if (settled !== undefined)
      return { ...base, contract: "ledger", eventName: "PaymentSettled", args: settled };
    const rejected = readPaymentRejected(log);
    if (rejected !== undefined)
      return { ...base, contract: "ledger", eventName: "PaymentRejected", args: rejected };
    const event = tryDecode(settlementLedgerAbi, log);
    return event === undefined ? undefined : { ...base, contract: "ledger", ...event };
  }
  if (address === contracts.registry.toLowerCase()) {
    const event = tryDecode(bankRegistryAbi, log);
    return event === undefined ? undefined : { ...base, contract: "registry", ...event };
  }
  if (address === contracts.fx.toLowerCase()) {
    const event = tryDecode(fxSettlementAbi, log);
    return event === undefined ? undefined : { ...base, contract: "fx", ...event };
  }
  return undefined;
}

/** Each ABI's events by selector, so a log is decoded against its one event instead of searching the ABI. */
const eventsBySelector = new Map<Abi, Map<Hex, Abi>>(
  [settlementLedgerAbi, bankRegistryAbi, fxSettlementAbi].map((abi) => [
    abi,
    new Map(abi.filter((item) => item.type === "event").map((item) => [toEventSelector(item), [item]])),
  ]),
);

function tryDecode<const TAbi extends Abi>(abi: TAbi, log: IndexedLog) {
  const event = eventsBySelector.get(abi)?.get(log.topics[0] ?? "0x");
  if (event === undefined) return undefined;
  try {
    // Decoded against the one event of `abi` whose selector is topic0, so it is that ABI's event type.
    const decoded = decodeEventLog({
      abi: event,
      topics: log.topics as [Hex, ...Hex[]],
      data: log.data,
      strict: true,
    });
    return decoded as unknown as DecodeEventLogReturnType<TAbi>;
  } catch {
    return undefined;
  }
}
