import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { ledgerTypes, toWirePayment, toWireRefund, type Payment } from "../../src/protocol/index.ts";
import { hashApiKey } from "../../src/relayer/api/auth.ts";
import { signWebhook, SIGNATURE_HEADER } from "../../src/relayer/engine/webhooks.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { startAnvil, type AnvilNode } from "../helpers/anvil.ts";
import { deployOwnedSmartAccount } from "../helpers/smartAccount.ts";
import { call, postPayment, waitForFinal } from "./helpers/http.ts";
import {
  confirm,
  customer,
  funder,
  deployTestNetwork,
  idOf,
  ledgerAs,
  payment,
  registryAs,
  relayerKeys,
  settledOnChain,
  signPayment,
  CNY,
  type TestNetwork,
} from "./helpers/network.ts";
import { API_KEY, edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

for (const chain of ["Hardhat (EDR, in-process)", "Anvil"] as const) {
  describe(`relayer end to end on ${chain}`, function () {
    let anvil: AnvilNode | undefined;
    let net: TestNetwork;
    let keys: Hex[];
    let dir: string;
    let cleanup: () => Promise<void>;
    let relayer: Relayer;
    let rpcUrl = "http://unused.invalid";

    const start = (overrides: Record<string, unknown> = {}) =>
      startTestRelayer(
        testConfig(net, dir, rpcUrl, overrides),
        keys,
        anvil === undefined ? { transport: edrTransport(net) } : {},
      );

    before(async function () {
      if (chain === "Anvil") {
        anvil = await startAnvil(["--accounts", "20"]);
        rpcUrl = anvil.url;
        net = await deployTestNetwork({ network: "anvil", url: anvil.url });
      } else {
        net = await deployTestNetwork();
      }
      keys = await relayerKeys(net, 2);
      ({ dir, cleanup } = await tempDir());
      relayer = await start();
    });

    after(async function () {
      await relayer.stop();
      await net.close();
      await anvil?.stop();
      await cleanup();
    });

    it("settles accepted payments in batches, each exactly once, and reports where", async function () {
      const payers = await Promise.all([
        customer(net, 1_000_00n),
        customer(net, 1_000_00n),
        customer(net, 1_000_00n),
      ]);
      const signed = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          signPayment(
            net,
            payers[i % 3] as Hex,
            payment(net, payers[i % 3] as Hex, BigInt(100 + i), BigInt(Math.floor(i / 3))),
          ),
        ),
      );
      const answers = await Promise.all(signed.map((s) => postPayment(relayer.url, s)));
      expect(answers.map((a) => a.status)).to.deep.equal(signed.map(() => 202));
      const ids = signed.map((s) => idOf(net, s));
      const final = await waitForFinal(relayer.url, ids, 60_000);
      for (const id of ids) {
        const view = final.get(id);
        expect(view).to.include({ status: "settled" });
        expect(view?.txHash).to.match(/^0x[0-9a-f]{64}$/);
        expect(view?.blockNumber).to.be.a("number");
      }
      const onChain = await settledOnChain(net);
      for (const id of ids) expect(onChain.get(id)).to.equal(1);
      const total = signed.reduce((sum, s) => sum + BigInt(s.payment.amount), 0n);
      expect(await ledgerAs(net, net.adminB).read.balanceOf([net.merchant, CNY])).to.be.at.least(total);
      const batches = new Set([...final.values()].map((view) => view.txHash));
      expect(batches.size).to.be.lessThan(ids.length, "payments share transactions");
    });

    it("settles a smart-account (ERC-1271) payer's payment next to an ECDSA payer's; refuses its wallet signed by another key", async function () {
      const ownerKey = generatePrivateKey();
      const wallet = await deployOwnedSmartAccount(
        funder(net),
        net.publicClient,
        privateKeyToAccount(ownerKey).address,
      );
      await confirm(net, ledgerAs(net, net.adminA).write.issueDeposits([wallet, CNY, 10_00n]));
      const ecdsaPayer = await customer(net, 10_00n);
      // The owner signs the ledger's typed data for the wallet; the relayer asks the wallet (isValidSignature).
      const byOwner = await signPayment(net, ownerKey, {
        ...payment(net, ownerKey, 1_23n, 0n),
        payer: wallet,
      });
      const byStranger = await signPayment(net, generatePrivateKey(), {
        ...payment(net, ownerKey, 1_00n, 1n),
        payer: wallet,
      });
      const plain = await signPayment(net, ecdsaPayer, payment(net, ecdsaPayer, 2_00n, 0n));

      const before = await relayer.store.countByStatus();
      const refused = await postPayment(relayer.url, byStranger);
      expect(refused.status).to.equal(422);
      expect(refused.body.error).to.include({ code: "SIGNATURE_INVALID" });
      expect(await relayer.store.countByStatus()).to.deep.equal(before, "nothing stored");

      const answers = await Promise.all([byOwner, plain].map((signed) => postPayment(relayer.url, signed)));
      expect(answers.map((answer) => answer.status)).to.deep.equal([202, 202]);
      const ids = [byOwner, plain].map((signed) => idOf(net, signed));
      const final = await waitForFinal(relayer.url, ids, 60_000);
      for (const id of ids) expect(final.get(id)).to.include({ status: "settled" });
      const onChain = await settledOnChain(net);
      for (const id of ids) expect(onChain.get(id)).to.equal(1);
      expect(await ledgerAs(net, net.adminA).read.balanceOf([wallet, CNY])).to.equal(10_00n - 1_23n);
    });

    it("answers a payment sent again after it settled with its final status, and settles nothing twice", async function () {
      const key = await customer(net, 1_00n);
      const signed = await signPayment(net, key, payment(net, key, 50n, 0n));
      expect((await postPayment(relayer.url, signed)).status).to.equal(202);
      await waitForFinal(relayer.url, [idOf(net, signed)], 30_000);
      const again = await postPayment(relayer.url, signed);
      expect(again.status).to.equal(200);
      expect(again.body).to.include({ id: idOf(net, signed), status: "settled" });
      expect((await settledOnChain(net)).get(idOf(net, signed))).to.equal(1);
    });

    it("reports the ledger's reason when a payment it accepted can no longer settle", async function () {
      await relayer.stop();
      relayer = await start({ batch: { windowMs: 1_500 } });
      const key = await customer(net, 10_00n);
      const signed = await signPayment(net, key, payment(net, key, 8_00n, 0n));
      expect((await postPayment(relayer.url, signed)).status).to.equal(202);
      // The customer cashes out before the batch goes: the ledger skips the payment.
      await confirm(
        net,
        ledgerAs(net, net.adminA).write.redeemDeposits([privateKeyToAccount(key).address, CNY, 5_00n]),
      );
      const final = await waitForFinal(relayer.url, [idOf(net, signed)], 30_000);
      expect(final.get(idOf(net, signed))).to.include({ status: "rejected", reason: "InsufficientBalance" });
    });

    it("keeps every status across a restart on the same store, and goes on settling", async function () {
      const key = await customer(net, 1_00n);
      const first = await signPayment(net, key, payment(net, key, 10n, 0n));
      await postPayment(relayer.url, first);
      await waitForFinal(relayer.url, [idOf(net, first)], 30_000);
      await relayer.stop();
      relayer = await start();
      expect((await call(relayer.url, "GET", `/v1/payments/${idOf(net, first)}`)).body).to.include({
        status: "settled",
      });
      const second = await signPayment(net, key, payment(net, key, 10n, 1n));
      expect((await postPayment(relayer.url, second)).status).to.equal(202);
      expect(
        (await waitForFinal(relayer.url, [idOf(net, second)], 30_000)).get(idOf(net, second)),
      ).to.include({ status: "settled" });
    });

    if (chain === "Anvil") {
      for (const mode of ["legacy", "zero"] as const) {
        it(`settles with ${mode} gas pricing`, async function () {
          let node: AnvilNode | undefined;
          let other: TestNetwork | undefined;
          const zero = mode === "zero";
          try {
            if (zero) {
              node = await startAnvil([
                "--accounts",
                "20",
                "--base-fee",
                "0",
                "--gas-price",
                "0",
                "--no-priority-fee",
              ]);
              other = await deployTestNetwork({ network: "anvil", url: node.url });
            }
            const target = other ?? net;
            const wallets = zero ? await relayerKeys(target, 1) : keys;
            const temp = await tempDir();
            const r = await startTestRelayer(
              testConfig(target, temp.dir, node?.url ?? rpcUrl, { fees: { mode } }),
              wallets,
            );
            try {
              const key = await customer(target, 1_00n);
              const signed = await signPayment(target, key, payment(target, key, 10n, 0n));
              expect((await postPayment(r.url, signed)).status).to.equal(202);
              const view = (await waitForFinal(r.url, [idOf(target, signed)], 30_000)).get(
                idOf(target, signed),
              );
              expect(view).to.include({ status: "settled" });
              const transaction = await target.publicClient.getTransaction({ hash: view?.txHash as Hex });
              expect(transaction.type).to.equal("legacy");
              if (zero) expect(transaction.gasPrice).to.equal(0n);
            } finally {
              await r.stop();
              await temp.cleanup();
            }
          } finally {
            await other?.close();
            await node?.stop();
          }
        });
      }
    }
  });
}

describe("relayer refunds and webhooks (Hardhat, EDR)", function () {
  let net: TestNetwork;
  let bankARelayer: Relayer;
  let bankBRelayer: Relayer;
  let cleanup: () => Promise<void>;
  let hooks: Server;
  const received: { body: string; signature: string }[] = [];
  const secret = "webhook-secret";

  before(async function () {
    net = await deployTestNetwork();
    hooks = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push({ body, signature: String(request.headers[SIGNATURE_HEADER]) });
        // The first delivery fails, so the retry path runs too.
        response.writeHead(received.length === 1 ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, "127.0.0.1", resolve));
    const temp = await tempDir();
    cleanup = temp.cleanup;
    const webhookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
    const client = {
      id: "wallet-app",
      keySha256: hashApiKey(API_KEY),
      ratePerSecond: 1_000,
      burst: 1_000,
      webhookUrl,
      webhookSecretEnv: "HOOK_SECRET",
    };
    const keysA = await relayerKeys(net, 1);
    bankARelayer = await startTestRelayer(
      testConfig(net, temp.dir, "http://unused.invalid", {
        instanceId: "bank-a",
        api: { clients: [client] },
        webhooks: { initialBackoffMs: 50 },
      }),
      keysA,
      { transport: edrTransport(net), env: { HOOK_SECRET: secret } },
    );
    // Bank B relays its merchant's refunds with its own wallet and store.
    const keyB = (await import("viem/accounts")).generatePrivateKey();
    const addressB = privateKeyToAccount(keyB).address;
    await confirm(net, funder(net).sendTransaction({ to: addressB, value: 10n ** 20n }));
    await confirm(net, registryAs(net, net.adminB).write.setRelayer([addressB, true]));
    const dirB = await tempDir();
    const previous = cleanup;
    cleanup = async () => {
      await previous();
      await dirB.cleanup();
    };
    bankBRelayer = await startTestRelayer(
      testConfig(net, dirB.dir, "http://unused.invalid", { instanceId: "bank-b" }),
      [keyB],
      {
        transport: edrTransport(net),
      },
    );
  });

  after(async function () {
    await bankARelayer.stop();
    await bankBRelayer.stop();
    await new Promise((resolve) => hooks.close(resolve));
    await net.close();
    await cleanup();
  });

  it("delivers each final status once acknowledged, signed with the client's secret, retrying failures", async function () {
    const key = await customer(net, 1_00n);
    const signed = await signPayment(net, key, payment(net, key, 10n, 0n));
    await postPayment(bankARelayer.url, signed);
    await waitForFinal(bankARelayer.url, [idOf(net, signed)], 30_000);
    const deadline = Date.now() + 10_000;
    while (received.length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).to.have.length(2, "a failed delivery, then a retry");
    for (const { body, signature } of received) {
      const timestamp = Number(/t=(\d+)/.exec(signature)?.[1]);
      expect(signature).to.equal(signWebhook(secret, body, timestamp));
      expect(JSON.parse(body)).to.include({
        event: "payment.final",
        id: idOf(net, signed),
        status: "settled",
      });
    }
  });

  it("refunds part of a settled payment through the payee bank's relayer", async function () {
    const key = await customer(net, 10_00n);
    const value: Payment = payment(net, key, 4_00n, 0n);
    const signed = await signPayment(net, key, value);
    await postPayment(bankARelayer.url, signed);
    await waitForFinal(bankARelayer.url, [idOf(net, signed)], 30_000);

    // The merchant holds more than the payment, so only the refund rule can refuse too large a refund.
    await confirm(net, ledgerAs(net, net.adminB).write.issueDeposits([net.merchant, CNY, 10_00n]));
    const refund = { paymentId: idOf(net, signed), amount: 1_50n, nonce: 0n, deadline: value.deadline };
    const signature = await privateKeyToAccount(net.merchantKey).signTypedData({
      domain: net.domain,
      types: ledgerTypes,
      primaryType: "Refund",
      message: refund,
    });
    const body = { refund: toWireRefund(refund), payment: toWirePayment(value), signature };
    const refused = await call(bankARelayer.url, "POST", "/v1/refunds", body);
    expect(refused.status).to.equal(422);
    expect(refused.body.error).to.include({ code: "NOT_PAYEE_BANK" });
    const tooMuch = await call(bankBRelayer.url, "POST", "/v1/refunds", {
      ...body,
      refund: toWireRefund({ ...refund, amount: 5_00n }),
      signature: await privateKeyToAccount(net.merchantKey).signTypedData({
        domain: net.domain,
        types: ledgerTypes,
        primaryType: "Refund",
        message: { ...refund, amount: 5_00n },
      }),
    });
    expect(tooMuch.body.error).to.include({ code: "REFUND_EXCEEDS_PAYMENT" });

    const accepted = await call(bankBRelayer.url, "POST", "/v1/refunds", body);
    expect(accepted.status).to.equal(202);
    const refundId = String(accepted.body.id);
    const deadline = Date.now() + 30_000;
    let view = accepted.body;
    while (view.status !== "settled" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = (await call(bankBRelayer.url, "GET", `/v1/refunds/${refundId}`)).body;
    }
    expect(view).to.include({ status: "settled" });
    expect(await ledgerAs(net, net.adminA).read.refundedAmount([refund.paymentId])).to.equal(1_50n);
    expect(await ledgerAs(net, net.adminA).read.balanceOf([value.payer, CNY])).to.equal(
      10_00n - 4_00n + 1_50n,
    );
  });

  it("accepts a refund from a merchant it last saw without an account, once the account is open", async function () {
    const merchantKey = (await import("viem/accounts")).generatePrivateKey();
    const merchant = privateKeyToAccount(merchantKey).address;
    const key = await customer(net, 10_00n);
    const value: Payment = { ...payment(net, key, 4_00n, 0n), payee: merchant };
    const signed = await signPayment(net, key, value);
    const refund = { paymentId: idOf(net, signed), amount: 1_50n, nonce: 0n, deadline: value.deadline };
    const body = {
      refund: toWireRefund(refund),
      payment: toWirePayment(value),
      signature: await privateKeyToAccount(merchantKey).signTypedData({
        domain: net.domain,
        types: ledgerTypes,
        primaryType: "Refund",
        message: refund,
      }),
    };
    // Too early: Bank B's relayer reads (and caches) the merchant's account, which does not exist yet.
    const early = await call(bankBRelayer.url, "POST", "/v1/refunds", body);
    expect(early.body.error).to.include({ code: "PAYER_NOT_CUSTOMER" });

    await confirm(net, ledgerAs(net, net.adminB).write.openAccount([merchant, CNY]));
    await postPayment(bankARelayer.url, signed);
    await waitForFinal(bankARelayer.url, [idOf(net, signed)], 30_000);
    const accepted = await call(bankBRelayer.url, "POST", "/v1/refunds", body);
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
    await waitForFinal(bankBRelayer.url, [String(accepted.body.id)], 30_000, "refunds");
  });
});
