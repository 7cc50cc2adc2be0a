/**
 * Writes test/vectors/eip712-payments.json: payments and refunds with their EIP-712 struct hashes, digests
 * (payment and refund ids) and signatures from a fixed test key. Solidity tests check the contracts against
 * it and TypeScript tests check ethers and viem against it, so all three agree on one set of numbers.
 * Regenerate (only when the types change) with `npx tsx scripts/generate-eip712-vectors.ts`.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";

import { hashStruct, keccak256, stringToHex, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import {
  ledgerDomain,
  ledgerTypes,
  paymentId,
  refundId,
  toCompactSignature,
  type Payment,
} from "../src/protocol/index.ts";

// A well-known test key (Hardhat's account #0); never use it for anything real.
const TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const LEDGER: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const account = privateKeyToAccount(TEST_KEY);
const domain = ledgerDomain(31337n, LEDGER);

const payments: Payment[] = [
  {
    payer: account.address,
    payee: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    payeeBank: 2,
    currency: 156,
    amount: 12_345n,
    qrHash: keccak256(stringToHex("00020101021226160012io.qrsettle5303156540512345")),
    nonce: 0n,
    deadline: 1_900_000_000n,
  },
  {
    payer: account.address,
    payee: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    payeeBank: 65_535,
    currency: 344,
    amount: 2n ** 96n - 1n,
    qrHash: keccak256(stringToHex("static sticker, amount typed by the payer")),
    nonce: 2n ** 47n - 1n,
    deadline: 2n ** 40n - 1n,
  },
];

const entries = await Promise.all(
  payments.map(async (payment) => {
    const signature = await account.signTypedData({
      domain,
      types: ledgerTypes,
      primaryType: "Payment",
      message: payment,
    });
    const id = paymentId(domain, payment);
    const refund = { paymentId: id, amount: 1n, nonce: 3n, deadline: payment.deadline };
    const refundSignature = await account.signTypedData({
      domain,
      types: ledgerTypes,
      primaryType: "Refund",
      message: refund,
    });
    return {
      payment: {
        ...payment,
        amount: payment.amount.toString(),
        nonce: payment.nonce.toString(),
        deadline: payment.deadline.toString(),
      },
      structHash: hashStruct({ data: payment, primaryType: "Payment", types: ledgerTypes }),
      paymentId: id,
      signature,
      compactSignature: toCompactSignature(signature),
      refund: { ...refund, amount: "1", nonce: "3", deadline: refund.deadline.toString() },
      refundId: refundId(domain, refund),
      refundSignature,
    };
  }),
);

const file = path.resolve(import.meta.dirname, "../test/vectors/eip712-payments.json");
await writeFile(
  file,
  `${JSON.stringify(
    {
      description:
        "EIP-712 payments and refunds under the QRSettle ledger domain, signed by Hardhat's test account #0. Shared by the Solidity and TypeScript tests; regenerate with scripts/generate-eip712-vectors.ts.",
      domain: { ...domain, chainId: Number(domain.chainId) },
      signer: account.address,
      vectors: entries,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
