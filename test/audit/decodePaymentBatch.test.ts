import { expect } from "chai";
import fc from "fast-check";
import { concat, type Address, type Hex } from "viem";

import {
  decodePaymentBatch,
  encodePaymentBatch,
  QRSettleError,
  type SignedPayment,
} from "../../src/protocol/index.ts";

const hexBytes = (length: number) =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((bytes) => numberToHexBytes(bytes));
const numberToHexBytes = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;
const address: fc.Arbitrary<Address> = hexBytes(20);
const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });

/** Payments of one currency whose payees repeat, as in a real batch; signatures of both kinds. */
const batch = (currency: number): fc.Arbitrary<SignedPayment[]> =>
  fc
    .array(fc.tuple(address, fc.integer({ min: 0, max: 65_535 })), { minLength: 1, maxLength: 4 })
    .chain((payees) =>
      fc.array(
        fc.record({
          payer: address,
          payee: fc.constantFrom(...payees),
          amount: uint(96),
          qrHash: hexBytes(32),
          nonce: uint(48),
          deadline: uint(40),
          compact: fc.boolean(),
          compactSignature: hexBytes(64),
          walletSignature: fc.integer({ min: 0, max: 300 }).chain((n) => hexBytes(n)),
        }),
        { minLength: 1, maxLength: 12 },
      ),
    )
    .map((items) =>
      items.map(({ payee: [payee, payeeBank], compact, compactSignature, walletSignature, ...rest }) => {
        const payment = { ...rest, payee, payeeBank, currency };
        return compact
          ? { payment, signature: compactSignature }
          : { payment, signature: walletSignature, smartAccount: true };
      }),
    );

/** A payment as the decoder returns it: the same, addresses in lowercase. */
function lowercased({ payment, ...rest }: SignedPayment): SignedPayment {
  return {
    ...rest,
    payment: { ...payment, payer: lower(payment.payer), payee: lower(payment.payee) },
  };
}
const lower = (value: Address): Address => value.toLowerCase() as Address;

function malformed(part: "payees" | "items", offset: number) {
  return (error: unknown) =>
    error instanceof QRSettleError &&
    error.code === "BATCH_MALFORMED" &&
    error.details.includes(`part: ${part}`) &&
    error.details.includes(`offset: ${offset}`);
}

describe("decodePaymentBatch", function () {
  it("is the exact inverse of encodePaymentBatch (property)", function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 999 }).chain((currency) => batch(currency)),
        (payments) => {
          expect(decodePaymentBatch(encodePaymentBatch(payments))).to.deep.equal(payments);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses a payee table that is not whole 22-byte entries, as the contract does", function () {
    const payees = concat([`0x${"11".repeat(20)}`, "0x0001", "0xff"]);
    expect(() => decodePaymentBatch({ currency: 156, payees, items: `0x${"00".repeat(142)}` })).to.throw(
      QRSettleError,
    );
    try {
      decodePaymentBatch({ currency: 156, payees, items: `0x${"00".repeat(142)}` });
    } catch (error) {
      expect(malformed("payees", 23)(error)).to.equal(true);
    }
  });

  it("refuses an item cut short, an unknown payee index or signature kind, with the item's byte offset", function () {
    const payment: SignedPayment = {
      payment: {
        payer: `0x${"aa".repeat(20)}`,
        payee: `0x${"bb".repeat(20)}`,
        payeeBank: 2,
        currency: 156,
        amount: 100n,
        qrHash: `0x${"cc".repeat(32)}`,
        nonce: 1n,
        deadline: 2n,
      },
      signature: `0x${"dd".repeat(64)}`,
    };
    const { currency, payees, items } = encodePaymentBatch([payment, payment]);
    const second = 78 + 64;
    const cut = items.slice(0, items.length - 2) as Hex;
    const badIndex =
      `${items.slice(0, 2 + (second + 20) * 2)}0001${items.slice(2 + (second + 22) * 2)}` as Hex;
    const badKind = `${items.slice(0, 2 + (second + 77) * 2)}02${items.slice(2 + (second + 78) * 2)}` as Hex;
    for (const bad of [cut, badIndex, badKind]) {
      let thrown: unknown;
      try {
        decodePaymentBatch({ currency, payees, items: bad });
      } catch (error) {
        thrown = error;
      }
      expect(malformed("items", second)(thrown), String(thrown)).to.equal(true);
    }
    expect(decodePaymentBatch({ currency, payees, items })).to.deep.equal([payment, payment].map(lowercased));
  });
});
