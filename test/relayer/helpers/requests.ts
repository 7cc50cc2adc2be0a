import { keccak256, stringToHex, type Address } from "viem";

import { toWirePayment } from "../../../src/protocol/index.ts";
import type { ChainFigure, NewRequest } from "../../../src/relayer/store/types.ts";

/** The payer of `storedPayment`'s requests unless overridden. */
export const STORED_PAYER = "0x00000000000000000000000000000000000000aa" as Address;

let counter = 0;

/** An admission figure read at `block` (by default before anything was included). */
export const figure = (value: bigint, block = 0): ChainFigure => ({ value, block });

/**
 * A payment request as `validatePayment` stores it, with a fresh id and nonce on every call and `overrides`
 * applied; its body encodes into a batch, though its signature recovers nobody (stores and batchers never
 * check it).
 */
export function storedPayment(overrides: Partial<NewRequest> = {}): NewRequest {
  counter++;
  const request: NewRequest = {
    id: keccak256(stringToHex(`stored payment ${counter} ${Math.random()}`)),
    kind: "payment",
    signer: STORED_PAYER,
    currency: 156,
    nonce: BigInt(counter),
    amount: 10n,
    deadline: 4_000_000_000n,
    body: "",
    client: "wallet-app",
    acceptedAt: Date.now(),
    ...overrides,
  };
  const payment = {
    payer: request.signer,
    payee: "0x00000000000000000000000000000000000000bb" as Address,
    payeeBank: 2,
    currency: request.currency,
    amount: request.amount,
    qrHash: keccak256(stringToHex(`qr ${counter}`)),
    nonce: request.nonce,
    deadline: request.deadline,
  };
  return {
    ...request,
    body:
      overrides.body ??
      JSON.stringify({ payment: toWirePayment(payment), signature: `0x${"11".repeat(64)}1b` }),
  };
}
