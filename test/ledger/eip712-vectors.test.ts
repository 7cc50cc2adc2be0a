import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { TypedDataEncoder, Wallet } from "ethers";
import { hashStruct, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  ledgerDomain,
  ledgerTypes,
  paymentId,
  refundId,
  toCompactSignature,
  typesOf,
  type Payment,
  type Refund,
} from "../../src/protocol/index.ts";

/** Hardhat's test account #0, the signer of the vectors. */
const TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

interface Vector {
  payment: Omit<Payment, "amount" | "nonce" | "deadline"> & {
    amount: string;
    nonce: string;
    deadline: string;
  };
  structHash: Hex;
  paymentId: Hex;
  signature: Hex;
  compactSignature: Hex;
  refund: { paymentId: Hex; amount: string; nonce: string; deadline: string };
  refundId: Hex;
  refundSignature: Hex;
}

const file = JSON.parse(await readFile("test/vectors/eip712-payments.json", "utf8")) as {
  domain: { chainId: number; verifyingContract: Address };
  signer: Address;
  vectors: Vector[];
};
const domain = ledgerDomain(file.domain.chainId, file.domain.verifyingContract);

describe("EIP-712 vectors shared with the Solidity tests", function () {
  for (const [i, vector] of file.vectors.entries()) {
    const payment: Payment = {
      ...vector.payment,
      amount: BigInt(vector.payment.amount),
      nonce: BigInt(vector.payment.nonce),
      deadline: BigInt(vector.payment.deadline),
    };
    const refund: Refund = {
      paymentId: vector.refund.paymentId,
      amount: BigInt(vector.refund.amount),
      nonce: BigInt(vector.refund.nonce),
      deadline: BigInt(vector.refund.deadline),
    };

    it(`vector ${i}: viem and ethers compute the struct hash and payment id`, function () {
      expect(hashStruct({ data: payment, primaryType: "Payment", types: ledgerTypes })).to.equal(
        vector.structHash,
      );
      expect(paymentId(domain, payment)).to.equal(vector.paymentId);
      expect(TypedDataEncoder.hash(domain, typesOf("Payment"), payment)).to.equal(vector.paymentId);
      expect(refundId(domain, refund)).to.equal(vector.refundId);
      expect(TypedDataEncoder.hash(domain, typesOf("Refund"), refund)).to.equal(vector.refundId);
    });

    it(`vector ${i}: viem and ethers signers produce the same signatures`, async function () {
      const viemAccount = privateKeyToAccount(TEST_KEY);
      const ethersWallet = new Wallet(TEST_KEY);
      expect(viemAccount.address).to.equal(file.signer);

      const viemSignature = await viemAccount.signTypedData({
        domain,
        types: ledgerTypes,
        primaryType: "Payment",
        message: payment,
      });
      expect(viemSignature).to.equal(vector.signature);
      expect(await ethersWallet.signTypedData(domain, typesOf("Payment"), payment)).to.equal(
        vector.signature,
      );
      expect(toCompactSignature(viemSignature)).to.equal(vector.compactSignature);

      expect(
        await viemAccount.signTypedData({
          domain,
          types: ledgerTypes,
          primaryType: "Refund",
          message: refund,
        }),
      ).to.equal(vector.refundSignature);
      expect(await ethersWallet.signTypedData(domain, typesOf("Refund"), refund)).to.equal(
        vector.refundSignature,
      );
    });
  }
});
