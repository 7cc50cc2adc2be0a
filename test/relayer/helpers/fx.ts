/**
 * Cross-currency payments for relayer tests on the sample network: Alpha's CNY customers pay HKD merchants of
 * Beta at quotes of Gamma (GAMMHKHH), which holds CNY and HKD reserves.
 */
import { expect } from "chai";
import { getAbiItem, keccak256, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import type { Signer } from "../../../src/deploy/network.ts";
import { SAMPLE_CURRENCIES } from "../../../src/deploy/sample.ts";
import {
  fxDomain,
  fxPaymentId,
  fxSettlementAbi,
  fxTypes,
  payAmountFor,
  quoteStructHash,
  rateFromDecimal,
  settlementLedgerAbi,
  toWireFxPayment,
  toWireFxQuote,
  type FxDomain,
  type FxPayment,
  type FxQuote,
  type WireSignedFxPayment,
} from "../../../src/protocol/index.ts";
import { confirm, ledgerAs, type TestNetwork } from "./network.ts";

export const { CNY, HKD } = SAMPLE_CURRENCIES;

/** Gamma's bank id: the sample network's FX provider. */
export function providerBank(net: TestNetwork): number {
  return net.deployment.banks.GAMMHKHH as number;
}

/** Gamma's admin, who registers its relayer (and so quote) keys: `relayerKeys(net, 1, providerAdmin(net))`. */
export function providerAdmin(net: TestNetwork): Signer {
  return net.signers[8] as Signer;
}

/** The FX contract's EIP-712 domain, under which quotes and cross-currency payments are signed. */
export function fxDomainOf(net: TestNetwork): FxDomain {
  return fxDomain(net.deployment.chainId, net.deployment.fx);
}

/**
 * A new merchant of Beta with an open HKD account.
 *
 * @example
 * const { address: merchant } = await hkdMerchant(net);
 */
export async function hkdMerchant(net: TestNetwork): Promise<{ key: Hex; address: Address }> {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  await confirm(net, ledgerAs(net, net.adminB).write.openAccount([address, HKD]));
  return { key, address };
}

/**
 * A CNY→HKD quote of Gamma at 1.0850 signed by `key` (a relayer key of Gamma, or an impostor's), valid from a
 * minute ago for `validitySeconds` more unless `changes` say otherwise, by both the wall clock (intake's) and
 * the chain's.
 * The two part in tests: automine moves the chain a second a block, and an in-process network made late in a
 * long mocha run starts its clock at the run's start, minutes behind.
 *
 * @example
 * const { quote, quoteSignature } = await signQuote(net, quoteKey, { maxToAmount: 5_000_00n });
 */
export async function signQuote(
  net: TestNetwork,
  key: Hex,
  changes: Partial<FxQuote> = {},
  validitySeconds = 120,
): Promise<{ quote: FxQuote; quoteSignature: Hex }> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const { timestamp } = await net.publicClient.getBlock();
  const quote: FxQuote = {
    provider: providerBank(net),
    fromCurrency: CNY,
    toCurrency: HKD,
    rate: rateFromDecimal("1.0850", CNY, HKD),
    maxToAmount: 5_000_00n,
    validFrom: (now < timestamp ? now : timestamp) - 60n,
    expiry: (now > timestamp ? now : timestamp) + BigInt(validitySeconds),
    quoteId: keccak256(stringToHex(`test-${now}-${Math.random()}`)),
    ...changes,
  };
  const quoteSignature = await privateKeyToAccount(key).signTypedData({
    domain: fxDomainOf(net),
    types: fxTypes,
    primaryType: "FxQuote",
    message: quote,
  });
  return { quote, quoteSignature };
}

/** What a cross-currency payment pays: `payAmount` defaults to what the quote's rate gives, as wallets compute it. */
export interface FxTerms {
  payee: Address;
  receiveAmount: bigint;
  payAmount?: bigint;
  nonce?: bigint;
  ttlSeconds?: number;
  /**
   * The payer, when it is not the signing key's address: a smart account (ERC-1271) whose wallet accepts the
   * key's signature of the payment's EIP-712 digest.
   */
  payer?: Address;
}

/**
 * A cross-currency payment of `terms.receiveAmount` HKD to `terms.payee` (at Beta) at `quote`, signed by
 * `payerKey` with viem (an implementation independent of the relayer's), in the wire form
 * `POST /v1/fx-payments` takes, with its id. The payer is the key's address unless `terms.payer` names a smart
 * account, for which the key signs as its owner.
 *
 * @example
 * const { body, id } = await signFxPayment(net, payerKey, quote, quoteSignature, { payee, receiveAmount: 108_50n });
 * const smart = await signFxPayment(net, ownerKey, quote, quoteSignature, { payee, receiveAmount, payer: wallet });
 */
export async function signFxPayment(
  net: TestNetwork,
  payerKey: Hex,
  quote: FxQuote,
  quoteSignature: Hex,
  terms: FxTerms,
): Promise<{ body: WireSignedFxPayment; id: Hex; payment: FxPayment }> {
  const nonce = terms.nonce ?? 0n;
  const payment: FxPayment = {
    payer: terms.payer ?? privateKeyToAccount(payerKey).address,
    payee: terms.payee,
    payeeBank: net.bankB,
    payCurrency: quote.fromCurrency,
    payAmount: terms.payAmount ?? payAmountFor(terms.receiveAmount, quote.rate),
    receiveCurrency: quote.toCurrency,
    receiveAmount: terms.receiveAmount,
    quoteHash: quoteStructHash(quote),
    qrHash: keccak256(stringToHex(`000201010212…HKD${terms.receiveAmount}:${nonce}`)),
    nonce,
    deadline: BigInt(Math.floor(Date.now() / 1000) + (terms.ttlSeconds ?? 3_600)),
  };
  const domain = fxDomainOf(net);
  const signature = await privateKeyToAccount(payerKey).signTypedData({
    domain,
    types: fxTypes,
    primaryType: "FxPayment",
    message: payment,
  });
  return {
    body: { quote: toWireFxQuote(quote), quoteSignature, payment: toWireFxPayment(payment), signature },
    id: fxPaymentId(domain, payment),
    payment,
  };
}

const crossCurrencySettled = getAbiItem({ abi: settlementLedgerAbi, name: "CrossCurrencySettled" });
const fxRejected = getAbiItem({ abi: fxSettlementAbi, name: "PaymentRejected" });
const quoteUsed = getAbiItem({ abi: fxSettlementAbi, name: "QuoteUsed" });

/**
 * Cross-currency outcomes on the canonical chain since `fromBlock`: the ledger's `CrossCurrencySettled` (the
 * ledger moves the money and logs it), the FX contract's `PaymentRejected` and its `QuoteUsed` (capacity
 * metered per settled payment).
 */
export async function fxOutcomeLogs(net: TestNetwork, fromBlock = 0n) {
  const [settled, rejected, used] = await Promise.all([
    net.publicClient.getLogs({ address: net.deployment.ledger, event: crossCurrencySettled, fromBlock }),
    net.publicClient.getLogs({ address: net.deployment.fx, event: fxRejected, fromBlock }),
    net.publicClient.getLogs({ address: net.deployment.fx, event: quoteUsed, fromBlock }),
  ]);
  return { settled, rejected, used };
}

/**
 * Asserts that each of `payments` settled exactly once on the canonical chain since `fromBlock`, and nothing
 * else did: one `CrossCurrencySettled` per payment, no FX rejection, one `QuoteUsed` per payment, each quote's
 * metered use equal to its payments' receive amounts, and (given a `merchant`) its HKD up by their total from
 * `merchantBefore`. Returns the logs for checks of the caller's own.
 */
export async function expectFxSettledOnce(
  net: TestNetwork,
  check: {
    payments: readonly { id: Hex; payment: FxPayment }[];
    quotes: readonly FxQuote[];
    merchant?: Address;
    merchantBefore?: bigint;
    fromBlock?: bigint;
  },
): Promise<Awaited<ReturnType<typeof fxOutcomeLogs>>> {
  const logs = await fxOutcomeLogs(net, check.fromBlock);
  const settled = logs.settled.map((log) => String(log.args.paymentId));
  expect(settled.length).to.equal(new Set(settled).size, "no FX payment settled twice");
  expect(new Set(settled)).to.deep.equal(
    new Set(check.payments.map(({ id }) => id)),
    "FX settled on chain = the FX payments accepted",
  );
  expect(logs.rejected.map((log) => log.args.reason)).to.deep.equal([], "no FX payment rejected");
  expect(logs.used).to.have.length(check.payments.length, "one QuoteUsed per FX payment");
  const received = (payments: readonly { payment: FxPayment }[]) =>
    payments.reduce((sum, { payment }) => sum + payment.receiveAmount, 0n);
  for (const quote of check.quotes) {
    const onQuote = check.payments.filter(({ payment }) => payment.quoteHash === quoteStructHash(quote));
    expect(await quoteUsedOnChain(net, quote)).to.equal(
      received(onQuote),
      "each quote metered its payments once",
    );
  }
  if (check.merchant !== undefined) {
    expect(await ledgerAs(net, net.adminB).read.balanceOf([check.merchant, HKD])).to.equal(
      (check.merchantBefore ?? 0n) + received(check.payments),
      "the HKD merchant was paid each FX payment once",
    );
  }
  return logs;
}

/** How much of a quote's capacity the FX contract has metered. */
export function quoteUsedOnChain(net: TestNetwork, quote: FxQuote): Promise<bigint> {
  return net.publicClient.readContract({
    address: net.deployment.fx,
    abi: fxSettlementAbi,
    functionName: "quoteUsed",
    args: [quoteStructHash(quote)],
  });
}

/** A bank's reserves and its customers' deposits in a currency. */
export async function position(
  net: TestNetwork,
  bank: number,
  currency: number,
): Promise<{ reserves: bigint; deposits: bigint }> {
  const [reserves, deposits] = await ledgerAs(net, net.adminA).read.getPosition([bank, currency]);
  return { reserves, deposits };
}
