import { readFile } from "node:fs/promises";

import { expect } from "chai";
import { Wallet } from "ethers";
import { network } from "hardhat";
import {
  compactSignatureToSignature,
  encodeFunctionData,
  parseCompactSignature,
  serializeSignature,
  size,
  getContract,
  keccak256,
  parseEventLogs,
  stringToHex,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { deployNetwork, type Deployment, type Signer } from "../../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../../src/deploy/sample.ts";
import {
  batchOutcomes,
  batchProof,
  batchRoot,
  decodeRevert,
  encodePaymentBatch,
  ledgerDomain,
  ledgerTypes,
  paymentId,
  REJECT_REASONS,
  revertData,
  settlementLedgerAbi,
  toCompactSignature,
  typesOf,
  type LedgerDomain,
  type Payment,
  type SignedPayment,
} from "../../src/protocol/index.ts";
import { SettlementLedger__factory } from "../../types/ethers-contracts/index.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";

const { CNY } = SAMPLE_CURRENCIES;

/** The same flows run on Hardhat's in-process EDR network and on Anvil, an independent EVM client. */
for (const chain of ["EDR (in-process)", "Anvil"] as const) {
  describe(`SettlementLedger from TypeScript on ${chain}`, function () {
    let anvil: AnvilNode | undefined;
    let connection: Awaited<ReturnType<typeof network.create>>;
    let publicClient: PublicClient;
    let signers: Signer[];
    let deployment: Deployment;
    let domain: LedgerDomain;
    let bankB: number;
    let merchant: Address;
    const merchantAccount = privateKeyToAccount(generatePrivateKey());
    let relayerA: Signer;

    before(async function () {
      if (chain === "Anvil") {
        anvil = await startAnvil(["--accounts", "20"]);
        connection = await network.create({ network: "anvil", override: { url: anvil.url } });
      } else {
        connection = await network.create();
      }
      publicClient = await connection.viem.getPublicClient();
      signers = await connection.viem.getWalletClients();
      const accounts = signers.map((s) => s.account.address);
      const bySigner = new Map(signers.map((s) => [s.account.address.toLowerCase(), s]));
      deployment = await deployNetwork(
        publicClient,
        (a) => bySigner.get(a.toLowerCase()),
        sampleNetworkSpec(accounts),
      );
      domain = ledgerDomain(deployment.chainId, deployment.ledger);
      bankB = deployment.banks.BETACNBJ as number;
      relayerA = signers[9] as Signer;
      merchant = merchantAccount.address;
      await ledgerAs(signers[7] as Signer).write.openAccount([merchant, CNY]);
    });

    after(async function () {
      await connection.close();
      await anvil?.stop();
    });

    function ledgerAs(signer: Signer) {
      return getContract({
        address: deployment.ledger,
        abi: settlementLedgerAbi,
        client: { public: publicClient, wallet: signer },
      });
    }

    async function confirmed(hash: Promise<Hex>) {
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
      expect(receipt.status).to.equal("success");
      return receipt;
    }

    /** A new customer of bank A with `balance` in CNY. */
    async function customer(balance: bigint): Promise<Hex> {
      const key = generatePrivateKey();
      await confirmed(
        ledgerAs(signers[6] as Signer).write.issueDeposits([privateKeyToAccount(key).address, CNY, balance]),
      );
      return key;
    }

    async function payment(payerKey: Hex, amount: bigint, nonce = 0n): Promise<Payment> {
      const block = await publicClient.getBlock();
      return {
        payer: privateKeyToAccount(payerKey).address,
        payee: merchant,
        payeeBank: bankB,
        currency: CNY,
        amount,
        qrHash: keccak256(stringToHex(`000201010212...${amount}`)),
        nonce,
        deadline: block.timestamp + 600n,
      };
    }

    async function settle(batch: SignedPayment[]) {
      const { currency, payees, items } = encodePaymentBatch(batch);
      const receipt = await confirmed(ledgerAs(relayerA).write.settlePayments([currency, payees, items]));
      const [outcome] = batchOutcomes(receipt.logs, deployment.ledger);
      if (outcome === undefined) throw new Error("no BatchSettled in receipt");
      return outcome;
    }

    it("ethers and viem sign identical payments, and both settle through TypeChain-typed ethers", async function () {
      const key = await customer(1_000_00n);
      const first = await payment(key, 100_00n, 0n);
      const second = await payment(key, 250_00n, 1n);

      const ethersSignature = (await new Wallet(key).signTypedData(domain, typesOf("Payment"), first)) as Hex;
      const viemSignature = await privateKeyToAccount(key).signTypedData({
        domain,
        types: ledgerTypes,
        primaryType: "Payment",
        message: first,
      });
      expect(ethersSignature).to.equal(viemSignature);

      const secondSignature = (await new Wallet(key).signTypedData(
        domain,
        typesOf("Payment"),
        second,
      )) as Hex;
      const relayer = await connection.ethers.getSigner(relayerA.account.address);
      const ledger = SettlementLedger__factory.connect(deployment.ledger, relayer);
      expect(await ledger.hashPayment(first)).to.equal(paymentId(domain, first));

      const { currency, payees, items } = encodePaymentBatch([
        { payment: first, signature: viemSignature },
        { payment: second, signature: secondSignature },
      ]);
      const receipt = await (await ledger.settlePayments(currency, payees, items)).wait();
      const events = (receipt?.logs ?? []).map((log) => ledger.interface.parseLog(log));
      const settledIds = events
        .filter((e) => e?.name === "PaymentSettled")
        .map((e) => e?.args.paymentId as string);
      const root = events.find((e) => e?.name === "BatchSettled")?.args.root as string;

      expect(settledIds).to.deep.equal([paymentId(domain, first), paymentId(domain, second)]);
      expect(root).to.equal(batchRoot(settledIds as Hex[]));
      expect(await ledger.balanceOf(merchant, CNY)).to.be.greaterThanOrEqual(350_00n);
      expect(await ledger.balanceOf(first.payer, CNY)).to.equal(650_00n);
    });

    it("reports a skipped item with its reason and settles the rest", async function () {
      const key = await customer(10_00n);
      const account = privateKeyToAccount(key);
      const sign = async (p: Payment): Promise<SignedPayment> => ({
        payment: p,
        signature: await account.signTypedData({
          domain,
          types: ledgerTypes,
          primaryType: "Payment",
          message: p,
        }),
      });
      const tooMuch = await payment(key, 50_00n, 0n);
      const fine = await payment(key, 5_00n, 1n);

      const outcome = await settle([await sign(tooMuch), await sign(fine)]);

      expect(outcome.rejected).to.deep.equal([
        {
          paymentId: paymentId(domain, tooMuch),
          payer: account.address,
          reason: "InsufficientBalance",
          reasonCode: 11,
        },
      ]);
      expect(outcome.settled.map((s) => s.paymentId)).to.deep.equal([paymentId(domain, fine)]);
    });

    it("refunds one payment of a batch with a Merkle proof built from the receipt", async function () {
      // One after another: the admin's transactions must not race for a nonce.
      const keys: Hex[] = [];
      for (let i = 0; i < 5; i++) keys.push(await customer(100_00n));
      const batch = await Promise.all(
        keys.map(async (key, i): Promise<SignedPayment> => {
          const p = await payment(key, BigInt(10_00 + i));
          const signature = await privateKeyToAccount(key).signTypedData({
            domain,
            types: ledgerTypes,
            primaryType: "Payment",
            message: p,
          });
          return { payment: p, signature };
        }),
      );
      const outcome = await settle(batch);
      const ids = outcome.settled.map((s) => s.paymentId);
      expect(outcome.root).to.equal(batchRoot(ids));

      const original = (batch[3] as SignedPayment).payment;
      const refund = { paymentId: ids[3] as Hex, amount: 4_00n, nonce: 0n, deadline: original.deadline };
      const signature = await merchantAccount.signTypedData({
        domain,
        types: ledgerTypes,
        primaryType: "Refund",
        message: refund,
      });
      const relayerB = signers[10] as Signer;
      const receipt = await confirmed(
        ledgerAs(relayerB).write.refundPayments([
          [
            {
              payment: original,
              batchRoot: outcome.root,
              proof: batchProof(ids, 3),
              amount: refund.amount,
              nonce: refund.nonce,
              deadline: refund.deadline,
              signature,
            },
          ],
        ]),
      );

      const refunded = parseEventLogs({
        abi: settlementLedgerAbi,
        logs: receipt.logs,
        eventName: "PaymentRefunded",
      });
      expect(refunded.map((e) => [e.args.paymentId, e.args.amount])).to.deep.equal([
        [refund.paymentId, 4_00n],
      ]);
      expect(await ledgerAs(relayerB).read.refundedAmount([refund.paymentId])).to.equal(4_00n);
      expect(await ledgerAs(relayerB).read.balanceOf([original.payer, CNY])).to.equal(
        100_00n - original.amount + 4_00n,
      );
    });

    it("rejects a caller that is not a relayer with a decodable custom error", async function () {
      const key = await customer(10_00n);
      const p = await payment(key, 1_00n);
      const signature = await privateKeyToAccount(key).signTypedData({
        domain,
        types: ledgerTypes,
        primaryType: "Payment",
        message: p,
      });
      const { currency, payees, items } = encodePaymentBatch([{ payment: p, signature }]);
      const outsider = signers[13] as Signer;
      const data = await publicClient
        .call({
          account: outsider.account,
          to: deployment.ledger,
          data: encodeFunctionData({
            abi: settlementLedgerAbi,
            functionName: "settlePayments",
            args: [currency, payees, items],
          }),
        })
        .then(() => undefined, revertData);
      expect(data).to.be.a("string");
      expect(decodeRevert(data as Hex)).to.deep.equal({
        name: "UnauthorizedRelayer",
        args: [outsider.account.address],
        argNames: ["caller"],
      });
    });
  });
}

describe("protocol definitions mirror the contracts", function () {
  it("RejectReason names and codes equal the Solidity enum", async function () {
    const source = await readFile("contracts/interfaces/ISettlementLedger.sol", "utf8");
    const body = /enum RejectReason \{([^}]*)\}/.exec(source)?.[1] ?? "";
    const names = body
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    expect(names).to.deep.equal([...REJECT_REASONS]);
  });

  it("EIP-712 type strings equal the Solidity typehash strings", async function () {
    const source = await readFile("contracts/libraries/PaymentHashLib.sol", "utf8");
    for (const [name, fields] of Object.entries(ledgerTypes)) {
      const typeString = `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
      expect(source).to.include(`"${typeString}"`);
    }
  });

  it("the EIP-2098 compact form round-trips through viem's independent implementation", async function () {
    for (let i = 0; i < 20; i++) {
      const account = privateKeyToAccount(generatePrivateKey());
      const signature = await account.signMessage({ message: `payment ${i}` });
      const compact = toCompactSignature(signature);
      expect(size(compact)).to.equal(64);
      expect(serializeSignature(compactSignatureToSignature(parseCompactSignature(compact)))).to.equal(
        signature,
      );
      expect(toCompactSignature(compact)).to.equal(compact);
    }
  });
});
