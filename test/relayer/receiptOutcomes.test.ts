import { expect } from "chai";
import fc from "fast-check";
import {
  encodeAbiParameters,
  encodeEventTopics,
  getAbiItem,
  isAddressEqual,
  parseEventLogs,
  type Abi,
  type AbiEvent,
  type Address,
  type Hex,
  type Log,
} from "viem";

import { fxSettlementAbi, settlementLedgerAbi } from "../../src/protocol/generated/abi.ts";
import { rejectReasonName } from "../../src/protocol/reasons.ts";
import { receiptOutcomes } from "../../src/relayer/engine/receiptOutcomes.ts";
import type { StoredRequest } from "../../src/relayer/store/types.ts";

const LEDGER: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const FX: Address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const OTHER: Address = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";

/** A log of `eventName` with `args`, as a node returns it. */
function logOf(abi: Abi, eventName: string, address: Address, args: Record<string, unknown>): Log {
  const event = getAbiItem({ abi, name: eventName }) as AbiEvent;
  const topics = encodeEventTopics({ abi: [event], eventName, args });
  const data = encodeAbiParameters(
    event.inputs.filter((input) => input.indexed !== true),
    event.inputs.filter((input) => input.indexed !== true).map((input) => args[input.name as string]),
  );
  return { address, topics, data } as unknown as Log;
}

/** What the receipt says, read with viem's full decoder: the reference the relayer's direct reading must match. */
function decodedWithViem(logs: Log[], kind: "payment" | "fx") {
  const settled = new Set<string>();
  const rejected = new Map<string, string>();
  const from = (address: Address) => (log: Log) => isAddressEqual(log.address, address);
  const settledEvent = kind === "fx" ? "CrossCurrencySettled" : "PaymentSettled";
  for (const log of parseEventLogs({ abi: settlementLedgerAbi, eventName: settledEvent, logs }).filter(
    from(LEDGER),
  ))
    settled.add(log.args.paymentId.toLowerCase());
  const [abi, emitter] = kind === "fx" ? [fxSettlementAbi, FX] : [settlementLedgerAbi, LEDGER];
  for (const log of parseEventLogs({ abi, eventName: "PaymentRejected", logs }).filter(from(emitter)))
    rejected.set(log.args.paymentId.toLowerCase(), rejectReasonName(log.args.reason));
  return { settled, rejected };
}

const id = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes): Hex => `0x${Buffer.from(bytes).toString("hex")}`);
const address = fc.constantFrom<Address>(LEDGER, FX, OTHER);
const word = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });

describe("receiptOutcomes: payment ids read from topics and data words", function () {
  for (const kind of ["payment", "fx"] as const) {
    it(`finds the same ${kind} outcomes as viem's decoder, from the right contract only`, function () {
      const settledEvent = kind === "fx" ? "CrossCurrencySettled" : "PaymentSettled";
      const entry = fc.oneof(
        fc.record({
          event: fc.constant("settled"),
          emitter: address,
          paymentId: id,
          payer: address,
          qrHash: id,
          terms: word,
        }),
        fc.record({
          event: fc.constant("rejected"),
          emitter: address,
          paymentId: id,
          payer: address,
          reason: fc.integer({ min: 0, max: 30 }),
        }),
        fc.record({
          event: fc.constant("fxRejected"),
          emitter: address,
          paymentId: id,
          payer: address,
          reason: fc.integer({ min: 0, max: 30 }),
        }),
        fc.record({ event: fc.constant("batch"), emitter: address, root: id, count: word }),
      );
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 40 }), (entries) => {
          const logs = entries.map((e) => {
            if (e.event === "settled")
              return logOf(settlementLedgerAbi, settledEvent, e.emitter, {
                payer: e.payer,
                payee: e.payer,
                paymentId: e.paymentId,
                qrHash: e.qrHash,
                terms: e.terms,
                payTerms: e.terms,
                receiveTerms: e.terms,
              });
            if (e.event === "rejected" || e.event === "fxRejected")
              return logOf(
                e.event === "fxRejected" ? fxSettlementAbi : settlementLedgerAbi,
                "PaymentRejected",
                e.emitter,
                {
                  paymentId: e.paymentId,
                  payer: e.payer,
                  reason: e.reason,
                },
              );
            return logOf(settlementLedgerAbi, "BatchSettled", e.emitter, {
              payerBank: 1,
              currency: 156,
              root: e.root,
              settledCount: e.count,
              rejectedCount: e.count,
            });
          });
          const requests = entries
            .filter((e): e is typeof e & { paymentId: Hex } => "paymentId" in e)
            .map((e) => ({ id: e.paymentId, kind }) as StoredRequest);
          const reference = decodedWithViem(logs, kind);
          const { outcomes } = receiptOutcomes(requests, logs, LEDGER, FX);
          for (const outcome of outcomes) {
            const key = outcome.id.toLowerCase();
            if (outcome.status === "settled") expect(reference.settled.has(key)).to.equal(true);
            else expect(outcome.reason).to.equal(reference.rejected.get(key));
          }
          const expected = requests.filter(
            (r) => reference.settled.has(r.id.toLowerCase()) || reference.rejected.has(r.id.toLowerCase()),
          );
          expect(outcomes.map((o) => o.id)).to.deep.equal(expected.map((r) => r.id));
        }),
        { numRuns: 200 },
      );
    });
  }
});
