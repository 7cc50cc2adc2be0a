import { expect } from "chai";
import { custom, encodeFunctionData, toHex, type Address, type Hex, type Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import type { Signer } from "../../src/deploy/network.ts";
import { ERC1271_GAS, type WireSignedPayment } from "../../src/protocol/index.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { erc1271Abi } from "../helpers/smartAccount.ts";
import { expectFxSettledOnce, hkdMerchant, providerAdmin, signFxPayment, signQuote } from "./helpers/fx.ts";
import { call, postPayment, waitForFinal, type Answer } from "./helpers/http.ts";
import {
  CNY,
  confirm,
  customer,
  deployTestNetwork,
  first,
  idOf,
  ledgerAs,
  outcomeLogs,
  payment,
  registryAs,
  relayerKeys,
  settledOnChain,
  signPayment,
  type TestNetwork,
  smartAccountCustomer,
} from "./helpers/network.ts";
import { startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

/** What each payer holds at Alpha before paying. */
const DEPOSIT = 1_000_00n;
/** Spins (26 gas each) that make a wallet's check need about 260,000 gas: more than the contracts give it. */
const OVER_ALLOWANCE_SPINS = 10_000n;

/**
 * A payment the node refuses to estimate: its payer's wallet accepted it at intake, then began to need more gas
 * than the contracts give its check, and EDR refuses to estimate a batch in which an inner call runs out of gas
 * ("an internal call runs out of gas regardless of the transaction's gas limit"). The relayer once retried the
 * whole batch every two seconds until that payment expired, holding up its queue. It must fail that payment
 * alone (`EstimateRefused`) and settle the rest; a refusal of the batch as a whole (one of the contracts' custom
 * errors) must fail nothing.
 */
describe("relayer batches with a payment the node refuses to estimate (Hardhat, EDR)", function () {
  let net: TestNetwork;

  before(async function () {
    net = await deployTestNetwork();
  });

  after(async function () {
    await net.close();
  });

  /** Makes a switchable wallet's check spin `spins` times from now on. */
  async function setSpins(wallet: Address, spins: bigint): Promise<void> {
    await net.connection.provider.request({
      method: "hardhat_setStorageAt",
      params: [wallet, toHex(0), toHex(spins, { size: 32 })],
    });
  }

  /** Gas of a wallet's check of `signature` for `digest` on its own (beyond the 21,000 of any transaction). */
  async function checkGas(wallet: Address, digest: Hex, signature: Hex): Promise<bigint> {
    const data = encodeFunctionData({
      abi: erc1271Abi,
      functionName: "isValidSignature",
      args: [digest, signature],
    });
    return (await net.publicClient.estimateGas({ to: wallet, data })) - 21_000n;
  }

  /**
   * The in-process network as the relayer's transport, without viem's retries (as the relayer's own HTTP
   * transport), counting the eth_estimateGas calls the node refused; with `stripRevertData`, a refusal comes
   * without its revert data, as from some nodes and providers.
   */
  function countingTransport(refusals: { count: number }, stripRevertData = false): Transport {
    const { provider } = net.connection;
    return custom(
      {
        async request(args: Parameters<typeof provider.request>[0]) {
          try {
            return (await provider.request(args)) as unknown;
          } catch (error) {
            if (args.method !== "eth_estimateGas") throw error;
            refusals.count++;
            throw stripRevertData ? new Error("execution reverted") : error;
          }
        },
      },
      { retryCount: 0 },
    );
  }

  /**
   * Runs `body` against Alpha's relayer with one new hot wallet and `batch` settings, and stops it after; `body`
   * gets the wallet's key and how many estimates the node has refused so far. The long window keeps a batch
   * from going out before the test has set its scene.
   */
  async function withRelayer<T>(
    batch: Record<string, number>,
    body: (relayer: Relayer, key: Hex, refusals: () => number) => Promise<T>,
    stripRevertData = false,
  ): Promise<T> {
    const { dir, cleanup } = await tempDir();
    const key = first(await relayerKeys(net, 1));
    const refusals = { count: 0 };
    let relayer: Relayer | undefined;
    try {
      relayer = await startTestRelayer(
        testConfig(net, dir, "http://unused.invalid", {
          chain: { fx: net.deployment.fx },
          batch: { windowMs: 2_000, ...batch },
          // Every test waits for its requests first: a drain at stop only has what can never go out.
          shutdown: { drainTimeoutMs: 1_000 },
        }),
        [key],
        { transport: countingTransport(refusals, stripRevertData) },
      );
      return await body(relayer, key, () => refusals.count);
    } finally {
      try {
        await relayer?.stop();
      } finally {
        await cleanup();
      }
    }
  }

  /** Like `waitForFinal`, but a timeout says what the relayer's readiness check says (its last batch error). */
  async function finalOrWhy(
    url: string,
    ids: readonly Hex[],
    timeoutMs: number,
    collection: "payments" | "fx-payments",
  ): Promise<Map<string, Record<string, unknown>>> {
    try {
      return await waitForFinal(url, ids, timeoutMs, collection);
    } catch (error) {
      const ready = await call(url, "GET", "/readyz");
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}; readiness: ${JSON.stringify(ready.body)}`, { cause: error });
    }
  }

  it("fails a same-currency payment the node refuses to estimate with EstimateRefused, and settles the rest of its batch", async function () {
    // Five payments due together: the third from a switchable wallet, the first from another smart account
    // (estimated with it), the others from ECDSA keys.
    const count = 5;
    const smart = await smartAccountCustomer(net, DEPOSIT);
    const switchable = await smartAccountCustomer(net, DEPOSIT, "slot");
    const signed: WireSignedPayment[] = [];
    for (let i = 0; i < count; i++) {
      const payer = i === 0 ? smart : i === 2 ? switchable : undefined;
      if (payer === undefined) {
        const key = await customer(net, DEPOSIT);
        signed.push(await signPayment(net, key, payment(net, key, 1_00n + BigInt(i), 0n)));
      } else {
        const { ownerKey, wallet } = payer;
        signed.push(
          await signPayment(net, ownerKey, {
            ...payment(net, ownerKey, 1_00n + BigInt(i), 0n),
            payer: wallet,
          }),
        );
      }
    }
    const ids = signed.map((s) => idOf(net, s));
    const badId = ids[2] as Hex;
    const others = ids.filter((id) => id !== badId);
    const fromBlock = await net.publicClient.getBlockNumber();

    await withRelayer({ maxItems: count }, async (relayer) => {
      // The first three are accepted (the wallet's check is cheap), then the wallet outgrows its gas; the last
      // two make the batch due.
      const answers: Answer[] = [];
      for (const s of signed.slice(0, 3)) answers.push(await postPayment(relayer.url, s));
      await setSpins(switchable.wallet, OVER_ALLOWANCE_SPINS);
      const bad = signed[2] as (typeof signed)[number];
      expect(await checkGas(switchable.wallet, badId, bad.signature as Hex)).to.be.above(ERC1271_GAS);
      answers.push(...(await Promise.all(signed.slice(3).map((s) => postPayment(relayer.url, s)))));
      expect(answers.map((answer) => answer.status)).to.deep.equal(ids.map(() => 202));

      const final = await finalOrWhy(relayer.url, ids, 20_000, "payments");
      expect(final.get(badId)).to.deep.include({ status: "failed", reason: "EstimateRefused" });
      expect(final.get(badId)).not.to.have.property("txHash");
      expect(others.map((id) => final.get(id)?.status)).to.deep.equal(others.map(() => "settled"));
    });

    // Each other payment settled once; nothing of the bad one reached the chain.
    const onChain = await settledOnChain(net);
    for (const id of others) expect(onChain.get(id), id).to.equal(1);
    expect(onChain.has(badId)).to.equal(false);
    const { rejected } = await outcomeLogs(net, fromBlock);
    expect(rejected).to.deep.equal([], "no payment rejected");
    expect(await ledgerAs(net, net.adminA).read.balanceOf([switchable.wallet, CNY])).to.equal(DEPOSIT);
  });

  it("fails a cross-currency payment the node refuses to estimate with EstimateRefused, and settles the rest of its batch", async function () {
    const count = 4;
    const [quoteKey] = (await relayerKeys(net, 1, providerAdmin(net))) as [Hex];
    const quote = await signQuote(net, quoteKey);
    const { address: merchant } = await hkdMerchant(net);
    const switchable = await smartAccountCustomer(net, DEPOSIT, "slot");
    // The first from the switchable wallet, the second from another smart account, the others from ECDSA keys.
    const items: Awaited<ReturnType<typeof signFxPayment>>[] = [];
    for (let i = 0; i < count; i++) {
      const payer = i === 0 ? switchable : i === 1 ? await smartAccountCustomer(net, DEPOSIT) : undefined;
      const key = payer?.ownerKey ?? (await customer(net, DEPOSIT));
      items.push(
        await signFxPayment(net, key, quote.quote, quote.quoteSignature, {
          payee: merchant,
          receiveAmount: 100_00n + BigInt(i),
          ...(payer === undefined ? {} : { payer: payer.wallet }),
        }),
      );
    }
    const bad = items[0] as (typeof items)[number];
    const others = items.filter((item) => item !== bad);
    const fromBlock = await net.publicClient.getBlockNumber();

    await withRelayer({ fxMaxItems: count }, async (relayer) => {
      const post = (item: (typeof items)[number]) => call(relayer.url, "POST", "/v1/fx-payments", item.body);
      const answers = [await post(bad)];
      await setSpins(switchable.wallet, OVER_ALLOWANCE_SPINS);
      expect(await checkGas(switchable.wallet, bad.id, bad.body.signature as Hex)).to.be.above(ERC1271_GAS);
      answers.push(...(await Promise.all(others.map(post))));
      expect(answers.map((answer) => answer.status)).to.deep.equal(items.map(() => 202));

      const final = await finalOrWhy(
        relayer.url,
        items.map((item) => item.id),
        20_000,
        "fx-payments",
      );
      expect(final.get(bad.id)).to.deep.include({ status: "failed", reason: "EstimateRefused" });
      expect(final.get(bad.id)).not.to.have.property("txHash");
      expect(others.map((item) => final.get(item.id)?.status)).to.deep.equal(others.map(() => "settled"));
    });

    // Only the others settled, each once, none was rejected; the bad payer paid nothing.
    await expectFxSettledOnce(net, { payments: others, quotes: [quote.quote], merchant, fromBlock });
    expect(await ledgerAs(net, net.adminA).read.balanceOf([switchable.wallet, CNY])).to.equal(DEPOSIT);
  });

  for (const stripRevertData of [false, true]) {
    it(`fails nothing while the contracts refuse the whole batch, and settles it once the cause is gone${stripRevertData ? ", also when the node gives no revert data" : ""}`, async function () {
      // The sample network's pauser.
      const pauser = registryAs(net, net.signers[3] as Signer);
      await withRelayer(
        { maxItems: 2 },
        async (relayer, key, refusals) => {
          const hotWallet = privateKeyToAccount(key).address;
          const admin = registryAs(net, net.adminA);
          const causes = [
            {
              error: "UnauthorizedRelayer",
              begin: () => admin.write.setRelayer([hotWallet, false]),
              end: () => admin.write.setRelayer([hotWallet, true]),
            },
            { error: "NetworkPaused", begin: () => pauser.write.pause(), end: () => pauser.write.unpause() },
          ];
          for (const [index, cause] of causes.entries()) {
            // A smart account's payment makes the batch estimated; the contracts refuse it with a custom error.
            const { ownerKey, wallet } = await smartAccountCustomer(net, DEPOSIT);
            const ecdsaKey = await customer(net, DEPOSIT);
            const amount = 3_00n + BigInt(index);
            const signed = [
              await signPayment(net, ownerKey, { ...payment(net, ownerKey, amount, 0n), payer: wallet }),
              await signPayment(net, ecdsaKey, payment(net, ecdsaKey, amount, 0n)),
            ];
            const ids = signed.map((s) => idOf(net, s));
            await confirm(net, cause.begin());
            const answers = await Promise.all(signed.map((s) => postPayment(relayer.url, s)));
            expect(answers.map((answer) => answer.status)).to.deep.equal([202, 202]);

            // The relayer says why, and tries again after its back-off (2 s), failing neither payment.
            const deadline = Date.now() + 10_000;
            const until = async (done: () => Promise<boolean>) => {
              while (!(await done()) && Date.now() < deadline)
                await new Promise((resolve) => setTimeout(resolve, 50));
            };
            const why = async () => {
              const ready = await call(relayer.url, "GET", "/readyz");
              return String((ready.body.checks as Record<string, unknown>).batches);
            };
            await until(async () => (await why()).includes(cause.error));
            expect(await why()).to.include(cause.error);
            const refusedThen = refusals();
            await until(() => Promise.resolve(refusals() > refusedThen));
            expect(refusals(), "the batch estimated again after a refusal").to.be.above(refusedThen);
            for (const id of ids) {
              expect((await call(relayer.url, "GET", `/v1/payments/${id}`)).body).to.include({
                status: "accepted",
              });
            }

            await confirm(net, cause.end());
            const final = await finalOrWhy(relayer.url, ids, 20_000, "payments");
            expect(ids.map((id) => final.get(id)?.status)).to.deep.equal(["settled", "settled"]);
            const onChain = await settledOnChain(net);
            for (const id of ids) expect(onChain.get(id), id).to.equal(1);
          }
        },
        stripRevertData,
      );
    });
  }
});
