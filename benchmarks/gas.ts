/**
 * Gas per settled cross-bank payment, full transaction cost (21,000 base and calldata included), for our
 * batched settlement at batch sizes 1, 10, 50 and 200, next to three baselines deployed and measured in the
 * same run on the same in-process chain:
 *
 * - erc20Transfer: an OpenZeppelin ERC-20 `transfer` sent by the payer, one transaction per payment;
 * - erc3009: ERC-3009 `transferWithAuthorization` as in Circle's FiatToken v2.2, relayed one per transaction;
 * - permitTransferFrom: EIP-2612 `permit` + `transferFrom` in one relayed transaction per payment.
 *
 * Scenario: returning payers (their accounts written before), ~50 merchants across 3 banks, every payment
 * cross-bank. Cross-currency payments (CNY payer, HKD merchant, through an FX provider bank: `ours_fx`) are
 * measured the same way, at the same batch sizes. So is the floor: `floorProbe`, an unsafe contract doing only
 * the per-payment work the requirements force, on the same payers, merchants and signatures, with variants
 * that log less (`floorProbe_bareEvent`, `floorProbe_noEvent`). Prints a table and writes
 * benchmarks/results/gas.json. Run with `./npmw run bench:gas`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { network } from "hardhat";
import {
  concat,
  getContract,
  keccak256,
  numberToHex,
  parseEther,
  parseSignature,
  toFunctionSelector,
  toHex,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

import { deployNetwork, type Signer } from "../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../src/deploy/sample.ts";
import {
  encodePaymentBatch,
  fxDomain,
  fxSettlementAbi,
  fxTypes,
  payAmountFor,
  quoteStructHash,
  rateFromDecimal,
  toCompactSignature,
  ledgerDomain,
  ledgerTypes,
  settlementLedgerAbi,
  type LedgerDomain,
  type SignedPayment,
} from "../src/protocol/index.ts";

const BATCH_SIZES = [1, 10, 50, 200] as const;
const PAYERS = 200;
const MERCHANTS = 50;
const BASELINE_PAYMENTS = 20;
const { CNY, HKD } = SAMPLE_CURRENCIES;

const connection = await network.create();
const { viem } = connection;
const publicClient = (await viem.getPublicClient()) as PublicClient;
const signers = (await viem.getWalletClients()) as unknown as Signer[];
const signerFor = (address: Address): Signer => {
  const signer = signers.find((s) => s.account.address.toLowerCase() === address.toLowerCase());
  if (signer === undefined) throw new Error(`no key for ${address}`);
  return signer;
};
const gasOf = async (pending: Promise<Hex>): Promise<bigint> => {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
  if (receipt.status !== "success")
    throw new Error(`benchmark transaction ${receipt.transactionHash} reverted`);
  return receipt.gasUsed;
};
const progress = (text: string) => process.stderr.write(`${text}\n`);

// ── Ours ────────────────────────────────────────────────────────────────────────────────────────────
progress("deploying the ledger with a payer bank and three merchant banks");
const spec = sampleNetworkSpec(signers.map((s) => s.account.address));
const [adminD, relayerD] = [signers[12], signers[13]].map((s) => (s as Signer).account.address) as [
  Address,
  Address,
];
spec.banks.push({
  bic: "DELTSGSG",
  name: "Delta Bank",
  admin: adminD,
  relayers: [relayerD],
  reserves: { [CNY]: 1_000_000_00n, [HKD]: 1_000_000_00n },
});
const deployment = await deployNetwork(publicClient, signerFor, spec);
const [payerBank, ...merchantBanks] = spec.banks;
if (payerBank === undefined) throw new Error("no banks");
const payerRelayer = payerBank.relayers[0] as Address;
const ledgerAs = (address: Address) =>
  getContract({
    address: deployment.ledger,
    abi: settlementLedgerAbi,
    client: { public: publicClient, wallet: signerFor(address) },
  });

progress(`opening ${PAYERS} payers and ${MERCHANTS} merchants`);
const payers = Array.from({ length: PAYERS }, () => privateKeyToAccount(generatePrivateKey()));
const merchants = Array.from({ length: MERCHANTS }, (_, i) => {
  const bank = merchantBanks[i % merchantBanks.length] as (typeof spec.banks)[number];
  return {
    account: privateKeyToAccount(generatePrivateKey()).address,
    bank: deployment.banks[bank.bic] as number,
    admin: bank.admin,
  };
});
for (const payer of payers)
  await gasOf(ledgerAs(payerBank.admin).write.issueDeposits([payer.address, CNY, 1_000_000_00n]));
for (const merchant of merchants)
  await gasOf(ledgerAs(merchant.admin).write.openAccount([merchant.account, CNY]));

const domain = ledgerDomain(deployment.chainId, deployment.ledger);
const deadline = BigInt(Math.floor(Date.now() / 1000) + 86_400);
const nextNonce = new Map<Address, bigint>();
/** `size` CNY payments, payer i paying merchant i mod 50, each signed by its payer for `payDomain`. */
async function signBatch(
  size: number,
  payDomain: LedgerDomain,
  nonces: Map<Address, bigint>,
  label: string,
): Promise<SignedPayment[]> {
  const batch: SignedPayment[] = [];
  for (let i = 0; i < size; i++) {
    const payer = payers[i] as PrivateKeyAccount;
    const merchant = merchants[i % MERCHANTS] as (typeof merchants)[number];
    const nonce = nonces.get(payer.address) ?? 0n;
    nonces.set(payer.address, nonce + 1n);
    const payment = {
      payer: payer.address,
      payee: merchant.account,
      payeeBank: merchant.bank,
      currency: CNY,
      amount: 1_000n + BigInt(i),
      qrHash: keccak256(toHex(`${label} ${size}/${i}`)),
      nonce,
      deadline,
    };
    const signature = await payer.signTypedData({
      domain: payDomain,
      types: ledgerTypes,
      primaryType: "Payment",
      message: payment,
    });
    batch.push({ payment, signature });
  }
  return batch;
}
async function settleBatch(size: number): Promise<bigint> {
  const { currency, payees, items } = encodePaymentBatch(
    await signBatch(size, domain, nextNonce, "dynamic QR"),
  );
  return gasOf(ledgerAs(payerRelayer).write.settlePayments([currency, payees, items]));
}

progress("warm-up: every payer and merchant settles once");
await settleBatch(PAYERS);
const ours: Record<string, number> = {};
for (const size of BATCH_SIZES) {
  const gas = await settleBatch(size);
  ours[size] = Math.round(Number(gas) / size);
  progress(`ours, batch ${size}: ${gas} gas, ${ours[size]} per payment`);
}

// ── Ours, cross-currency ────────────────────────────────────────────────────────────────────────────
// CNY payers at the payer bank pay HKD merchants at Delta Bank through Gamma Bank, the FX provider, which
// holds both currencies: payment versus payment, reserves CNY payer bank → Gamma and HKD Gamma → Delta.
progress("cross-currency: a quote from Gamma Bank, HKD merchants at Delta Bank");
const provider = spec.banks.find((b) => b.bic === "GAMMHKHH") as (typeof spec.banks)[number];
const delta = deployment.banks.DELTSGSG as number;
const hkdMerchants = Array.from(
  { length: MERCHANTS },
  () => privateKeyToAccount(generatePrivateKey()).address,
);
for (const merchant of hkdMerchants) await gasOf(ledgerAs(adminD).write.openAccount([merchant, HKD]));
const fx = fxDomain(deployment.chainId, deployment.fx);
const quote = {
  provider: deployment.banks.GAMMHKHH as number,
  fromCurrency: CNY,
  toCurrency: HKD,
  rate: rateFromDecimal("1.0850", CNY, HKD),
  maxToAmount: 10n ** 15n,
  validFrom: 0n,
  expiry: deadline,
  quoteId: keccak256(toHex("benchmark quote")),
};
const quoteSignature = await signerFor(provider.relayers[0] as Address).signTypedData({
  domain: fx,
  types: fxTypes,
  primaryType: "FxQuote",
  message: quote,
});
const fxAs = getContract({
  address: deployment.fx,
  abi: fxSettlementAbi,
  client: { public: publicClient, wallet: signerFor(payerRelayer) },
});
async function settleFxBatch(size: number): Promise<bigint> {
  const requests = [];
  for (let i = 0; i < size; i++) {
    const payer = payers[i] as PrivateKeyAccount;
    const nonce = nextNonce.get(payer.address) ?? 0n;
    nextNonce.set(payer.address, nonce + 1n);
    const receiveAmount = 1_000n + BigInt(i);
    const payment = {
      payer: payer.address,
      payee: hkdMerchants[i % MERCHANTS] as Address,
      payeeBank: delta,
      payCurrency: CNY,
      payAmount: payAmountFor(receiveAmount, quote.rate),
      receiveCurrency: HKD,
      receiveAmount,
      quoteHash: quoteStructHash(quote),
      qrHash: keccak256(toHex(`dynamic HKD QR ${size}/${i}`)),
      nonce,
      deadline,
    };
    const payerSignature = await payer.signTypedData({
      domain: fx,
      types: fxTypes,
      primaryType: "FxPayment",
      message: payment,
    });
    requests.push({ payment, payerSignature: toCompactSignature(payerSignature), quote, quoteSignature });
  }
  return gasOf(fxAs.write.settleFxPayments([requests]));
}
progress("warm-up: every HKD merchant is paid once");
await settleFxBatch(MERCHANTS);
const oursFx: Record<string, number> = {};
for (const size of BATCH_SIZES) {
  const gas = await settleFxBatch(size);
  oursFx[size] = Math.round(Number(gas) / size);
  progress(`ours cross-currency, batch ${size}: ${gas} gas, ${oursFx[size]} per payment`);
}

// ── Floor probe ─────────────────────────────────────────────────────────────────────────────────────
// benchmarks/contracts/GasFloorProbe.sol does per payment only the work the issue's requirements force
// (EIP-712 digest, ecrecover, the payer's word read and written, payees credited once per batch, the event),
// on the same payers, merchants and signatures as ours: a measured lower bound for any design meeting them.
// Variants log a data-less LOG3 or nothing, to price the event's parts.
const EVENT_SHAPE = { full: 0, bare: 1, none: 2 } as const;
const PROBE_FUNDING = 1_000_000_00n;
const payerBankId = deployment.banks[payerBank.bic] as number;

/** `GasFloorProbe.settle()` calldata: the selector, then the batch packed as the contract documents it. */
function encodeProbeSettle(batch: readonly SignedPayment[]): Hex {
  const payeeIndex = new Map<string, number>();
  const table: Hex[] = [];
  const items = batch.map(({ payment, signature }) => {
    const key = `${payment.payee}:${payment.payeeBank}`;
    let index = payeeIndex.get(key);
    if (index === undefined) {
      index = table.length;
      payeeIndex.set(key, index);
      table.push(concat([payment.payee, numberToHex(payment.payeeBank, { size: 2 })]));
    }
    return concat([
      payment.payer,
      numberToHex(index, { size: 1 }),
      numberToHex(payment.amount, { size: 12 }),
      numberToHex(payment.nonce, { size: 4 }),
      numberToHex(payment.deadline, { size: 4 }),
      payment.qrHash,
      toCompactSignature(signature),
    ]);
  });
  return concat([
    toFunctionSelector("settle()"),
    numberToHex(CNY, { size: 2 }),
    numberToHex(payerBankId, { size: 2 }),
    numberToHex(table.length, { size: 1 }),
    ...table,
    ...items,
  ]);
}

/** Intrinsic gas of transaction data: 16 per nonzero byte, 4 per zero byte. */
function calldataGas(data: Hex): number {
  let gas = 0;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

/**
 * Deploys a probe with `shape`, funds every payer (returning: nonzero word), settles a warm-up batch of every
 * payer (so every merchant's word is nonzero too), then measures `sizes`: full-transaction gas per payment and,
 * of it, the calldata's. Afterwards every payer's and merchant's balance must have moved by exactly the
 * settled amounts, or the measurement is refused.
 */
async function measureProbe(
  shape: keyof typeof EVENT_SHAPE,
  sizes: readonly number[],
): Promise<{ gas: Record<string, number>; calldata: Record<string, number> }> {
  const probe = await viem.deployContract("GasFloorProbe", [EVENT_SHAPE[shape]]);
  await gasOf(probe.write.fund([CNY, payers.map((p) => p.address), PROBE_FUNDING]));
  const probeDomain = ledgerDomain(deployment.chainId, probe.address);
  const nonces = new Map<Address, bigint>();
  const moved = new Map<Address, bigint>();
  const settle = async (size: number) => {
    const batch = await signBatch(size, probeDomain, nonces, "probe QR");
    for (const { payment } of batch) {
      moved.set(payment.payer, (moved.get(payment.payer) ?? 0n) - payment.amount);
      moved.set(payment.payee, (moved.get(payment.payee) ?? 0n) + payment.amount);
    }
    const data = encodeProbeSettle(batch);
    const gas = await gasOf(signerFor(payerRelayer).sendTransaction({ to: probe.address, data }));
    return { gas, data };
  };
  await settle(PAYERS);
  const perPayment = { gas: {} as Record<string, number>, calldata: {} as Record<string, number> };
  for (const size of sizes) {
    const { gas, data } = await settle(size);
    perPayment.gas[size] = Math.round(Number(gas) / size);
    perPayment.calldata[size] = Math.round(calldataGas(data) / size);
    progress(
      `floor probe (event: ${shape}), batch ${size}: ${gas} gas, ${perPayment.gas[size]} per payment ` +
        `(calldata ${perPayment.calldata[size]})`,
    );
  }
  for (const [account, delta] of moved) {
    const expected = (payers.some((p) => p.address === account) ? PROBE_FUNDING : 0n) + delta;
    const actual = await probe.read.balanceOf([CNY, account]);
    if (actual !== expected) throw new Error(`floor probe: ${account} holds ${actual}, expected ${expected}`);
  }
  return perPayment;
}

progress("floor probe: the irreducible work per payment, on the same payers and merchants");
const floorProbe = await measureProbe("full", BATCH_SIZES);
const floorProbeBareEvent = (await measureProbe("bare", [200])).gas;
const floorProbeNoEvent = (await measureProbe("none", [200])).gas;

// ── Baselines ───────────────────────────────────────────────────────────────────────────────────────
const relayer = signers[14] as Signer;
const funder = signers[15] as Signer;
const baselinePayers = payers.slice(0, BASELINE_PAYMENTS);
const baselineMerchants = merchants.slice(0, BASELINE_PAYMENTS).map((m) => m.account);
const average = (values: bigint[]) => Math.round(Number(values.reduce((a, b) => a + b, 0n)) / values.length);

progress("baseline: ERC-20 transfer per payment");
const permitToken = await viem.deployContract("BaselinePermitToken");
for (const holder of [...baselinePayers.map((p) => p.address), ...baselineMerchants]) {
  await gasOf(permitToken.write.mint([holder, 1_000_000_00n]));
}
for (const payer of baselinePayers) {
  await gasOf(funder.sendTransaction({ to: payer.address, value: parseEther("1") }));
}
const transferGas: bigint[] = [];
for (const [i, payer] of baselinePayers.entries()) {
  const token = getContract({
    address: permitToken.address,
    abi: permitToken.abi,
    client: { public: publicClient, wallet: await viem.getWalletClient(payer.address, { account: payer }) },
  });
  transferGas.push(
    await gasOf(
      token.write.transfer([baselineMerchants[i] as Address, 1_000n], { account: payer, chain: undefined }),
    ),
  );
}

progress("baseline: ERC-3009 transferWithAuthorization, relayed");
const eip3009 = await viem.deployContract("BaselineEip3009Token");
for (const holder of [...baselinePayers.map((p) => p.address), ...baselineMerchants]) {
  await gasOf(eip3009.write.mint([holder, 1_000_000_00n]));
}
const eip3009Domain = {
  name: "Baseline USD",
  version: "2",
  chainId: deployment.chainId,
  verifyingContract: eip3009.address,
};
const eip3009Gas: bigint[] = [];
for (const [i, payer] of baselinePayers.entries()) {
  const message = {
    from: payer.address,
    to: baselineMerchants[i] as Address,
    value: 1_000n,
    validAfter: 0n,
    validBefore: deadline,
    nonce: keccak256(toHex(`3009 nonce ${i}`)),
  };
  const signature = await payer.signTypedData({
    domain: eip3009Domain,
    types: {
      TransferWithAuthorization: [
        { name: "from", type: "address" },
        { name: "to", type: "address" },
        { name: "value", type: "uint256" },
        { name: "validAfter", type: "uint256" },
        { name: "validBefore", type: "uint256" },
        { name: "nonce", type: "bytes32" },
      ],
    },
    primaryType: "TransferWithAuthorization",
    message,
  });
  eip3009Gas.push(
    await gasOf(
      eip3009.write.transferWithAuthorization(
        [
          message.from,
          message.to,
          message.value,
          message.validAfter,
          message.validBefore,
          message.nonce,
          signature,
        ],
        { account: relayer.account },
      ),
    ),
  );
}

progress("baseline: EIP-2612 permit + transferFrom, relayed");
const relay = await viem.deployContract("PermitPaymentRelay");
const permitDomain = {
  name: "Baseline Deposit",
  version: "1",
  chainId: deployment.chainId,
  verifyingContract: permitToken.address,
};
async function permitPayment(payer: PrivateKeyAccount, to: Address): Promise<bigint> {
  const nonce = await permitToken.read.nonces([payer.address]);
  const signature = await payer.signTypedData({
    domain: permitDomain,
    types: {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "Permit",
    message: { owner: payer.address, spender: relay.address, value: 1_000n, nonce, deadline },
  });
  const { r, s, v } = parseSignature(signature);
  return gasOf(
    relay.write.pay([permitToken.address, payer.address, to, 1_000n, deadline, Number(v), r, s], {
      account: relayer.account,
    }),
  );
}
for (const [i, payer] of baselinePayers.entries())
  await permitPayment(payer, baselineMerchants[i] as Address);
const permitGas: bigint[] = [];
for (const [i, payer] of baselinePayers.entries())
  permitGas.push(await permitPayment(payer, baselineMerchants[i] as Address));

await connection.close();

// ── Report ──────────────────────────────────────────────────────────────────────────────────────────
const baselines = {
  erc20Transfer: average(transferGas),
  erc3009: average(eip3009Gas),
  permitTransferFrom: average(permitGas),
};
const rows: [string, number][] = [
  ...BATCH_SIZES.map((size): [string, number] => [`ours, batch of ${size}`, ours[size] as number]),
  ...BATCH_SIZES.map((size): [string, number] => [
    `ours cross-currency (PvP), batch of ${size}`,
    oursFx[size] as number,
  ]),
  ...BATCH_SIZES.map((size): [string, number] => [
    `floor probe (unsafe), batch of ${size}`,
    floorProbe.gas[size] as number,
  ]),
  ["floor probe, data-less LOG3, batch of 200", floorProbeBareEvent[200] as number],
  ["floor probe, no event, batch of 200", floorProbeNoEvent[200] as number],
  ["ERC-20 transfer, one tx per payment", baselines.erc20Transfer],
  ["ERC-3009 transferWithAuthorization, relayed", baselines.erc3009],
  ["ERC-2612 permit + transferFrom, relayed", baselines.permitTransferFrom],
];
console.log("\nGas per settled cross-bank payment (full transaction: 21,000 base + calldata + execution)\n");
console.log(`${"".padEnd(46)} ${"gas/payment".padStart(12)} ${"vs ERC-20".padStart(10)}`);
for (const [label, gas] of rows) {
  console.log(
    `${label.padEnd(46)} ${String(gas).padStart(12)} ${(gas / baselines.erc20Transfer).toFixed(2).padStart(9)}×`,
  );
}
console.log(`\ntarget at batch 200: ≤ 12,000 gas per payment`);

const results = {
  description:
    "Gas per settled cross-bank payment, full transaction (21,000 base and calldata included). Returning payers, " +
    `${MERCHANTS} merchants across ${merchantBanks.length} banks; baselines averaged over ${BASELINE_PAYMENTS} payments. ` +
    "floorProbe*: benchmarks/contracts/GasFloorProbe.sol, an unsafe contract doing only the per-payment work the " +
    "requirements force (signature, payer word, payee credits, PaymentSettled; _bareEvent: data-less LOG3, " +
    "_noEvent: no log), on the same payers, merchants and signatures; _calldata: the part of floorProbe paid " +
    "for its transaction data.",
  ours,
  ours_fx: oursFx,
  baselines,
  floorProbe: floorProbe.gas,
  floorProbe_calldata: floorProbe.calldata,
  floorProbe_bareEvent: floorProbeBareEvent,
  floorProbe_noEvent: floorProbeNoEvent,
  measuredAt: new Date().toISOString(),
};
const outFile = path.resolve(import.meta.dirname, "results/gas.json");
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
