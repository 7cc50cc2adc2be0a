import { expect } from "chai";
import { isAddressEqual, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import {
  fromWireFxQuote,
  fxDomain,
  fxPaymentId,
  fxTypes,
  payAmountFor,
  quoteStructHash,
  settlementLedgerAbi,
  type FxQuote,
  type WireSignedFxPayment,
} from "../../src/protocol/index.ts";
import { RelayerClient } from "../../src/client/index.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { erc1271Abi } from "../helpers/smartAccount.ts";
import {
  CNY,
  fxDomainOf,
  HKD,
  hkdMerchant,
  position as positionOn,
  providerAdmin,
  providerBank,
  signFxPayment,
  signQuote,
} from "./helpers/fx.ts";
import { call } from "./helpers/http.ts";
import {
  customer,
  deployTestNetwork,
  ledgerAs,
  relayerKeys,
  type TestNetwork,
  smartAccountCustomer,
} from "./helpers/network.ts";
import { API_KEY, edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

const MAX_TO_AMOUNT = 5_000_00n;
const ERC1271_MAGIC = "0x1626ba7e";

/**
 * Alpha's CNY customer pays Beta's HKD merchant through Alpha's relayer, at a quote from the relayer of Gamma
 * (which holds CNY and HKD reserves and quotes CNY/HKD), on the sample network in process.
 */
describe("relayer cross-currency payments (Hardhat, EDR)", function () {
  let net: TestNetwork;
  let bankC: number;
  let provider: Relayer | undefined;
  let payerBank: Relayer | undefined;
  let quoteKey: Hex;
  let merchant: Address;
  let cleanup: (() => Promise<void>) | undefined;
  const client = () => new RelayerClient({ url: (payerBank as Relayer).url, apiKey: API_KEY });

  before(async function () {
    net = await deployTestNetwork();
    bankC = providerBank(net);
    merchant = (await hkdMerchant(net)).address;
    const temp = await tempDir();
    cleanup = temp.cleanup;
    const fxChain = { chain: { fx: net.deployment.fx } };

    // Gamma's relayer: an FX provider, its first hot wallet key also signing quotes.
    const gammaKeys = await relayerKeys(net, 1, providerAdmin(net));
    quoteKey = gammaKeys[0] as Hex;
    provider = await startTestRelayer(
      testConfig(net, temp.dir, "http://unused.invalid", {
        ...fxChain,
        instanceId: "gamma",
        store: { sqlitePath: `${temp.dir}/gamma.db` },
        fx: {
          provider: {
            rates: { "CNY/HKD": "1.0850" },
            validitySeconds: 120,
            maxToAmount: String(MAX_TO_AMOUNT),
          },
          providers: [{ url: "self" }],
        },
      }),
      gammaKeys,
      { transport: edrTransport(net), env: { QRSETTLE_RELAYER_FX_QUOTE_KEY: quoteKey } },
    );

    // Alpha's relayer: quotes from Gamma's relayer over HTTP, with the API key Gamma gave Alpha.
    payerBank = await startTestRelayer(
      testConfig(net, temp.dir, "http://unused.invalid", {
        ...fxChain,
        instanceId: "alpha",
        store: { sqlitePath: `${temp.dir}/alpha.db` },
        fx: { providers: [{ url: provider.url, apiKeyEnv: "GAMMA_API_KEY" }] },
      }),
      await relayerKeys(net, 1),
      { transport: edrTransport(net), env: { GAMMA_API_KEY: API_KEY } },
    );
  });

  after(async function () {
    await payerBank?.stop();
    await provider?.stop();
    await net.close();
    await cleanup?.();
  });

  const position = (bank: number, currency: number) => positionOn(net, bank, currency);

  /** A quote of Gamma signed by `key`, as its relayer would (or an impostor). */
  const quoteSignedBy = (key: Hex, changes: Partial<FxQuote> = {}) =>
    signQuote(net, key, { maxToAmount: MAX_TO_AMOUNT, ...changes });
  /** An FX payment of `receiveAmount` HKD to the merchant at `quote`, signed by `payerKey`. */
  const signed = (
    payerKey: Hex,
    quote: FxQuote,
    quoteSignature: Hex,
    receiveAmount: bigint,
    payAmount: bigint,
  ): Promise<{ body: WireSignedFxPayment; id: Hex }> =>
    signFxPayment(net, payerKey, quote, quoteSignature, { payee: merchant, receiveAmount, payAmount });

  it("pays an HKD merchant at Beta from a CNY account at Alpha, at Gamma's quote, both legs at once", async function () {
    const payerKey = await customer(net, 1_000_00n);
    const payer = privateKeyToAccount(payerKey).address;
    const before = {
      a: await position(net.bankA, CNY),
      cCny: await position(bankC, CNY),
      cHkd: await position(bankC, HKD),
      bHkd: await position(net.bankB, HKD),
    };

    // HKD 108.50 for the merchant; codes alphabetic or numeric.
    const { quotes, errors } = await client().quotes({ from: "CNY", to: String(HKD), amount: 108_50n });
    expect(errors).to.deep.equal([]);
    expect(quotes).to.have.length(1);
    const offer = quotes[0] as (typeof quotes)[number];
    expect(offer).to.include({
      source: (provider as Relayer).url,
      payAmount: "10000",
      receiveAmount: "10850",
    });
    const quote = fromWireFxQuote(offer.quote);
    expect(quote).to.include({
      provider: bankC,
      fromCurrency: CNY,
      toCurrency: HKD,
      maxToAmount: MAX_TO_AMOUNT,
    });
    expect(offer.quoteHash).to.equal(quoteStructHash(quote));

    // The provider's own relayer quotes itself the same way.
    const own = await new RelayerClient({ url: (provider as Relayer).url, apiKey: API_KEY }).quotes({
      from: 156,
      to: "HKD",
      amount: 108_50n,
    });
    expect(own.quotes.map((q) => [q.source, q.payAmount])).to.deep.equal([["self", "10000"]]);

    const { body, id } = await signed(payerKey, quote, offer.quoteSignature as Hex, 108_50n, 100_00n);
    const accepted = await client().submitFxPayment(body);
    expect(accepted).to.deep.equal({ id, status: "accepted" });
    const again = await call(client().url, "POST", "/v1/fx-payments", body);
    expect(again).to.deep.include({ status: 200 });
    expect(again.body.id).to.equal(id);

    const final = await client().waitForFinal("fx-payment", id, { timeoutMs: 30_000 });
    expect(final).to.include({ id, status: "settled" });
    const receipt = await net.publicClient.getTransactionReceipt({ hash: final.txHash as Hex });
    expect(receipt.to?.toLowerCase()).to.equal(net.deployment.fx.toLowerCase(), "sent to FxSettlement");
    const settledEvents = await net.publicClient.getContractEvents({
      address: net.deployment.ledger,
      abi: settlementLedgerAbi,
      eventName: "CrossCurrencySettled",
      fromBlock: 0n,
    });
    expect(settledEvents.filter((event) => event.args.paymentId === id)).to.have.length(1);

    const ledger = ledgerAs(net, net.adminA);
    expect(await ledger.read.balanceOf([payer, CNY])).to.equal(1_000_00n - 100_00n);
    expect(await ledger.read.balanceOf([merchant, HKD])).to.equal(108_50n);
    expect(await position(net.bankA, CNY)).to.deep.equal({
      reserves: before.a.reserves - 100_00n,
      deposits: before.a.deposits - 100_00n,
    });
    expect((await position(bankC, CNY)).reserves).to.equal(before.cCny.reserves + 100_00n);
    expect((await position(bankC, HKD)).reserves).to.equal(before.cHkd.reserves - 108_50n);
    expect(await position(net.bankB, HKD)).to.deep.equal({
      reserves: before.bHkd.reserves + 108_50n,
      deposits: before.bHkd.deposits + 108_50n,
    });
  });

  it("refuses an expired quote, a quote signed by a key of no provider, an amount over the quote, and a wrong pay amount; stores none", async function () {
    const payerKey = await customer(net, 1_000_00n);
    const refused = async (code: string, body: WireSignedFxPayment, id: Hex) => {
      const answer = await call(client().url, "POST", "/v1/fx-payments", body);
      expect(answer.body.error, JSON.stringify(answer.body)).to.include({ code });
      expect((await call(client().url, "GET", `/v1/fx-payments/${id}`)).status).to.equal(
        404,
        "nothing stored",
      );
    };
    const now = BigInt(Math.floor(Date.now() / 1000));

    const expired = await quoteSignedBy(quoteKey, { validFrom: now - 600n, expiry: now - 300n });
    const a = await signed(payerKey, expired.quote, expired.quoteSignature, 108_50n, 100_00n);
    await refused("QUOTE_EXPIRED", a.body, a.id);

    const impostor = await quoteSignedBy(generatePrivateKey());
    const b = await signed(payerKey, impostor.quote, impostor.quoteSignature, 108_50n, 100_00n);
    await refused("QUOTE_INVALID", b.body, b.id);

    const good = await quoteSignedBy(quoteKey);
    const over = MAX_TO_AMOUNT + 1n;
    const c = await signed(
      payerKey,
      good.quote,
      good.quoteSignature,
      over,
      payAmountFor(over, good.quote.rate),
    );
    await refused("QUOTE_EXHAUSTED", c.body, c.id);

    const d = await signed(payerKey, good.quote, good.quoteSignature, 108_50n, 99_99n);
    await refused("QUOTE_MISMATCH", d.body, d.id);

    // The provider will not quote more than its maximum, and Alpha's relayer says which source refused.
    const { quotes, errors } = await client().quotes({ from: "CNY", to: "HKD", amount: over });
    expect(quotes).to.deep.equal([]);
    expect(errors).to.deep.equal([
      {
        source: (provider as Relayer).url,
        code: "QUOTE_AMOUNT_TOO_LARGE",
        message: `This provider quotes at most ${MAX_TO_AMOUNT} minor units at once.`,
      },
    ]);
    const unknown = await call(client().url, "GET", "/v1/quotes?from=CNY&to=XYZ&amount=100");
    expect(unknown.body.error).to.include({ code: "INVALID_QUERY" });
  });

  /** Whether `wallet` itself accepts `signature` for `digest`: the premise of each case below. */
  const walletAccepts = async (wallet: Address, digest: Hex, signature: Hex) =>
    (await net.publicClient.readContract({
      address: wallet,
      abi: erc1271Abi,
      functionName: "isValidSignature",
      args: [digest, signature],
    })) === ERC1271_MAGIC;
  /** The ledger's CrossCurrencySettled events for `id`. */
  const crossCurrencySettled = async (id: Hex) =>
    (
      await net.publicClient.getContractEvents({
        address: net.deployment.ledger,
        abi: settlementLedgerAbi,
        eventName: "CrossCurrencySettled",
        fromBlock: 0n,
      })
    ).filter((event) => event.args.paymentId?.toLowerCase() === id.toLowerCase());

  it("settles a smart-account (ERC-1271) payer's cross-currency payment, signed by its wallet's owner key", async function () {
    const { ownerKey, wallet } = await smartAccountCustomer(net, 1_000_00n);
    const ledger = ledgerAs(net, net.adminA);
    const merchantBefore = await ledger.read.balanceOf([merchant, HKD]);

    // HKD 217.00 for the merchant costs CNY 200.00 at 1.0850.
    const { quotes } = await client().quotes({ from: "CNY", to: "HKD", amount: 217_00n });
    const offer = quotes[0] as (typeof quotes)[number];
    expect(offer).to.include({ payAmount: "20000", receiveAmount: "21700" });
    const { body, id } = await signFxPayment(
      net,
      ownerKey,
      fromWireFxQuote(offer.quote),
      offer.quoteSignature as Hex,
      { payee: merchant, receiveAmount: 217_00n, payAmount: 200_00n, payer: wallet },
    );
    expect(body.payment.payer).to.equal(wallet);
    // Not an ECDSA signature of the payer: only the wallet's isValidSignature makes it good.
    expect(await walletAccepts(wallet, id, body.signature as Hex)).to.equal(true, "the wallet accepts it");

    const answer = await call(client().url, "POST", "/v1/fx-payments", body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    expect(answer.body).to.deep.equal({ id, status: "accepted" });
    const final = await client().waitForFinal("fx-payment", id, { timeoutMs: 30_000 });
    expect(final).to.include({ id, status: "settled" });
    const receipt = await net.publicClient.getTransactionReceipt({ hash: final.txHash as Hex });
    expect(receipt.to?.toLowerCase()).to.equal(net.deployment.fx.toLowerCase(), "sent to FxSettlement");

    const events = await crossCurrencySettled(id);
    expect(events).to.have.length(1);
    const event = events[0] as (typeof events)[number];
    expect(event.transactionHash).to.equal(final.txHash);
    expect(isAddressEqual(event.args.payer as Address, wallet), "the smart account pays").to.equal(true);
    expect(isAddressEqual(event.args.payee as Address, merchant)).to.equal(true);
    expect(await ledger.read.balanceOf([wallet, CNY])).to.equal(1_000_00n - 200_00n);
    expect(await ledger.read.balanceOf([merchant, HKD])).to.equal(merchantBefore + 217_00n);
  });

  it("refuses a smart account's cross-currency payment its wallet does not accept, storing nothing", async function () {
    const { ownerKey, wallet } = await smartAccountCustomer(net, 1_000_00n);
    const { quote, quoteSignature } = await quoteSignedBy(quoteKey);
    const genuine = await signFxPayment(net, ownerKey, quote, quoteSignature, {
      payee: merchant,
      receiveAmount: 54_25n,
      payer: wallet,
      nonce: 7n,
    });
    const { id } = genuine;
    // The same payment (so the same id) signed by a stranger's key...
    const byStranger = await privateKeyToAccount(generatePrivateKey()).signTypedData({
      domain: fxDomainOf(net),
      types: fxTypes,
      primaryType: "FxPayment",
      message: genuine.payment,
    });
    // ...and by the owner, but under another chain's FX domain: the wallet accepts that for another digest only.
    const otherDomain = fxDomain(net.deployment.chainId + 1, net.deployment.fx);
    const byOwnerElsewhere = await privateKeyToAccount(ownerKey).signTypedData({
      domain: otherDomain,
      types: fxTypes,
      primaryType: "FxPayment",
      message: genuine.payment,
    });
    expect(await walletAccepts(wallet, id, genuine.body.signature as Hex)).to.equal(true);
    expect(await walletAccepts(wallet, id, byStranger)).to.equal(false);
    expect(await walletAccepts(wallet, id, byOwnerElsewhere)).to.equal(false);
    expect(await walletAccepts(wallet, fxPaymentId(otherDomain, genuine.payment), byOwnerElsewhere)).to.equal(
      true,
      "the owner's signature is good for the other domain's digest",
    );

    const counts = await (payerBank as Relayer).store.countByStatus();
    for (const signature of [byStranger, byOwnerElsewhere]) {
      const answer = await call(client().url, "POST", "/v1/fx-payments", { ...genuine.body, signature });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(422);
      expect(answer.body.error).to.include({ code: "SIGNATURE_INVALID" });
      expect((await call(client().url, "GET", `/v1/fx-payments/${id}`)).status).to.equal(
        404,
        "nothing stored",
      );
    }
    const listed = await call(client().url, "GET", "/v1/fx-payments?limit=1000");
    expect((listed.body.items as { id: string }[]).map((item) => item.id.toLowerCase())).not.to.include(
      id.toLowerCase(),
    );
    expect(await (payerBank as Relayer).store.countByStatus()).to.deep.equal(counts, "nothing stored");

    // The refusals left no trace under the id: the owner's signature of the same payment is new, and settles once.
    const accepted = await call(client().url, "POST", "/v1/fx-payments", genuine.body);
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
    expect(accepted.body).to.deep.equal({ id, status: "accepted" });
    const final = await client().waitForFinal("fx-payment", id, { timeoutMs: 30_000 });
    expect(final, JSON.stringify(final)).to.include({ id, status: "settled" });
    expect(await crossCurrencySettled(id)).to.have.length(1);
    expect(await ledgerAs(net, net.adminA).read.balanceOf([wallet, CNY])).to.equal(
      1_000_00n - genuine.payment.payAmount,
    );
  });

  // Last: it moves the chain's clock ahead for good.
  it("quotes a window the chain accepts when the chain's clock runs ahead of the wall clock", async function () {
    // A local chain mining several blocks a second, or one whose clock was moved, is ahead of the wall clock.
    await net.connection.provider.request({ method: "evm_increaseTime", params: [600] });
    await net.connection.provider.request({ method: "evm_mine", params: [] });
    const payerKey = await customer(net, 1_000_00n);
    const { quotes } = await client().quotes({ from: "CNY", to: "HKD", amount: 10_00n });
    const offer = quotes[0] as (typeof quotes)[number];
    const { body, id } = await signed(
      payerKey,
      fromWireFxQuote(offer.quote),
      offer.quoteSignature as Hex,
      10_00n,
      BigInt(offer.payAmount),
    );
    await client().submitFxPayment(body);
    const final = await client().waitForFinal("fx-payment", id, { timeoutMs: 30_000 });
    expect(final).to.include({ id, status: "settled" });
  });
});
