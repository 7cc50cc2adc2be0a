/**
 * The QRSettle demo: a three-bank network on an in-process Hardhat chain. Merchants show EMV QR codes (saved
 * as PNG under out/demo), customers scan the PNGs and sign EIP-712 payments, their bank's relayer key settles
 * them in one batch, a merchant refunds one, and the ledger is reconciled.
 * Exits non-zero if anything does not add up.
 *
 * Run with `./npmw run demo`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { network } from "hardhat";
import { getContract, type Address, type Hex, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

import { deployNetwork, type Signer } from "../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../src/deploy/sample.ts";
import {
  batchOutcomes,
  batchProof,
  encodePaymentBatch,
  ledgerDomain,
  ledgerTypes,
  paymentFromRequest,
  settlementLedgerAbi,
  type SignedPayment,
} from "../src/protocol/index.ts";
import {
  decodeQrImage,
  decodeQrSettleRequest,
  encodeQrSettleRequest,
  renderQrPng,
  renderQrTerminal,
} from "../src/qr/index.ts";

const { CNY } = SAMPLE_CURRENCIES;
/** Minor units as "CNY 1234.50", in integer arithmetic. */
const yuan = (minor: bigint): string => {
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  return `CNY ${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
};
const step = (text: string): void => {
  console.log(`\n▶ ${text}`);
};

const connection = await network.create();
const publicClient = (await connection.viem.getPublicClient()) as PublicClient;
const signers = (await connection.viem.getWalletClients()) as unknown as Signer[];
const signerByAddress = new Map(signers.map((s) => [s.account.address.toLowerCase(), s]));
const signerFor = (address: Address): Signer => {
  const signer = signerByAddress.get(address.toLowerCase());
  if (signer === undefined) throw new Error(`no key for ${address}`);
  return signer;
};

step("Deploying the registry and the ledger; onboarding three banks");
const spec = sampleNetworkSpec(signers.map((s) => s.account.address));
const deployment = await deployNetwork(publicClient, signerFor, spec);
console.log(`  BankRegistry      ${deployment.registry}`);
console.log(`  SettlementLedger  ${deployment.ledger}  (chain ${deployment.chainId})`);
for (const bank of spec.banks) console.log(`  bank ${deployment.banks[bank.bic]}  ${bank.bic}  ${bank.name}`);

const [alpha, beta] = spec.banks as [(typeof spec.banks)[0], (typeof spec.banks)[0]];
const alphaId = deployment.banks[alpha.bic] as number;
const betaId = deployment.banks[beta.bic] as number;
const ledgerAs = (address: Address) =>
  getContract({
    address: deployment.ledger,
    abi: settlementLedgerAbi,
    client: { public: publicClient, wallet: signerFor(address) },
  });
const reader = ledgerAs(alpha.admin).read;
const confirm = async (pending: Promise<Hex>) => {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
  if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} failed`);
  return receipt;
};

step("Opening accounts: customers Li Wei and Chen Jing at Alpha Bank, merchants at Alpha and Beta");
const liWei = privateKeyToAccount(generatePrivateKey());
const chenJing = privateKeyToAccount(generatePrivateKey());
const teaHouse = privateKeyToAccount(generatePrivateKey());
const noodleBar = privateKeyToAccount(generatePrivateKey());
const people: [string, PrivateKeyAccount][] = [
  ["Li Wei", liWei],
  ["Chen Jing", chenJing],
  ["Tea House (Alpha)", teaHouse],
  ["Noodle Bar (Beta)", noodleBar],
];
await confirm(ledgerAs(alpha.admin).write.issueDeposits([liWei.address, CNY, 500_00n]));
await confirm(ledgerAs(alpha.admin).write.issueDeposits([chenJing.address, CNY, 40_00n]));
await confirm(ledgerAs(alpha.admin).write.openAccount([teaHouse.address, CNY]));
await confirm(ledgerAs(beta.admin).write.openAccount([noodleBar.address, CNY]));

async function balances(): Promise<void> {
  for (const [name, account] of people) {
    console.log(`  ${name.padEnd(20)} ${yuan(await reader.balanceOf([account.address, CNY]))}`);
  }
  for (const bank of [alpha, beta]) {
    const [reserves, deposits] = await reader.getPosition([deployment.banks[bank.bic] as number, CNY]);
    console.log(`  ${bank.name.padEnd(20)} reserves ${yuan(reserves)}, customer deposits ${yuan(deposits)}`);
  }
}
step("Balances before");
await balances();

step("Merchants show QR codes: Noodle Bar a dynamic code for CNY 128.50, Tea House a static sticker");
const outDir = path.resolve(import.meta.dirname, "../out/demo");
await mkdir(outDir, { recursive: true });
const chainId = BigInt(deployment.chainId);
const ledgerHex = deployment.ledger.toLowerCase() as Address;
const noodleBarCode = encodeQrSettleRequest({
  chainId,
  ledger: ledgerHex,
  payeeBank: betaId,
  payee: noodleBar.address.toLowerCase() as Address,
  currency: CNY,
  amount: "128.50",
  reference: "TABLE-12",
  merchantName: "NOODLE BAR",
  merchantCity: "BEIJING",
  countryCode: "CN",
  mcc: "5812",
  pointOfInitiation: "dynamic",
  alternateLanguage: { languagePreference: "ZH", merchantName: "面馆", merchantCity: "北京" },
});
const teaHouseCode = encodeQrSettleRequest({
  chainId,
  ledger: ledgerHex,
  payeeBank: alphaId,
  payee: teaHouse.address.toLowerCase() as Address,
  currency: CNY,
  merchantName: "TEA HOUSE",
  merchantCity: "SHANGHAI",
  countryCode: "CN",
  mcc: "5814",
  pointOfInitiation: "static",
});
const codes = { "noodle-bar-dynamic.png": noodleBarCode, "tea-house-static.png": teaHouseCode };
for (const [file, payload] of Object.entries(codes)) {
  await writeFile(path.join(outDir, file), renderQrPng(payload));
  console.log(`  ${path.relative(process.cwd(), path.join(outDir, file))}  ${payload}`);
}
console.log(renderQrTerminal(noodleBarCode).replace(/^/gm, "  "));

step("Customers scan the PNGs, check what they show, and sign EIP-712 payments");
const deadline = (await publicClient.getBlock()).timestamp + 600n;
async function scanAndPay(payer: PrivateKeyAccount, png: string, nonce: bigint, typedAmount?: string) {
  const payload = decodeQrImage(await readFile(path.join(outDir, png)));
  const request = decodeQrSettleRequest(payload);
  const { payment, domain } = paymentFromRequest({
    request,
    payload,
    payer: payer.address,
    nonce,
    deadline,
    amount: typedAmount,
  });
  const signature = await payer.signTypedData({
    domain,
    types: ledgerTypes,
    primaryType: "Payment",
    message: payment,
  });
  console.log(
    `  ${request.merchantName.padEnd(11)} ${yuan(payment.amount).padEnd(12)} ${request.pointOfInitiation} code, bank ${request.payeeBank}`,
  );
  return { payment, signature } satisfies SignedPayment;
}
const batch = [
  await scanAndPay(liWei, "noodle-bar-dynamic.png", 0n), // cross-bank
  await scanAndPay(chenJing, "tea-house-static.png", 0n, "18.00"), // same bank, amount typed by the payer
  await scanAndPay(chenJing, "noodle-bar-dynamic.png", 1n), // more than Chen Jing holds
];
const domain = ledgerDomain(deployment.chainId, deployment.ledger);

step("Alpha Bank's relayer key settles all three in one transaction");
const { currency, payees, items } = encodePaymentBatch(batch);
const receipt = await confirm(
  ledgerAs(alpha.relayers[0] as Address).write.settlePayments([currency, payees, items]),
);
const [outcome] = batchOutcomes(receipt.logs, deployment.ledger);
if (outcome === undefined) throw new Error("the batch emitted no BatchSettled");
console.log(`  gas used ${receipt.gasUsed}, batch root ${outcome.root}`);
for (const settled of outcome.settled)
  console.log(`  settled  ${settled.paymentId}  ${yuan(settled.amount)}`);
for (const rejected of outcome.rejected) console.log(`  rejected ${rejected.paymentId}  ${rejected.reason}`);

step("Noodle Bar refunds CNY 28.50 of Li Wei's payment; Beta Bank's relayer settles it");
const settledIds = outcome.settled.map((s) => s.paymentId);
const refund = { paymentId: settledIds[0] as Hex, amount: 28_50n, nonce: 0n, deadline };
const refundSignature = await noodleBar.signTypedData({
  domain,
  types: ledgerTypes,
  primaryType: "Refund",
  message: refund,
});
await confirm(
  ledgerAs(beta.relayers[0] as Address).write.refundPayments([
    [
      {
        payment: (batch[0] as SignedPayment).payment,
        batchRoot: outcome.root,
        proof: batchProof(settledIds, 0),
        amount: refund.amount,
        nonce: refund.nonce,
        deadline: refund.deadline,
        signature: refundSignature,
      },
    ],
  ]),
);
console.log(`  refunded ${yuan(await reader.refundedAmount([refund.paymentId]))} of ${settledIds[0]}`);

step("Balances after");
await balances();

step("Reconciling");
const problems: string[] = [];
const expect = (what: string, actual: bigint, expected: bigint) => {
  const ok = actual === expected;
  console.log(`  ${ok ? "✔" : "✘"} ${what}: ${actual}${ok ? "" : ` (expected ${expected})`}`);
  if (!ok) problems.push(what);
};
expect("Li Wei paid 128.50 and got 28.50 back", await reader.balanceOf([liWei.address, CNY]), 400_00n);
expect("Noodle Bar kept 100.00", await reader.balanceOf([noodleBar.address, CNY]), 100_00n);
expect("Chen Jing's rejected payment left 22.00", await reader.balanceOf([chenJing.address, CNY]), 22_00n);
let customerTotal = 0n;
for (const [, account] of people) customerTotal += await reader.balanceOf([account.address, CNY]);
let bankDeposits = 0n;
let bankReserves = 0n;
for (const bank of spec.banks) {
  const [reserves, deposits] = await reader.getPosition([deployment.banks[bank.bic] as number, CNY]);
  bankDeposits += deposits;
  bankReserves += reserves;
}
const supply = await reader.getSupply([CNY]);
expect("customer balances = banks' deposit liabilities", customerTotal, bankDeposits);
expect("banks' deposit liabilities = deposits issued − redeemed", bankDeposits, supply.deposits);
expect("banks' reserves = reserves issued − redeemed", bankReserves, supply.reserves);

await connection.close();
if (problems.length > 0) {
  console.error(`\n✘ ${problems.length} check(s) failed: ${problems.join("; ")}`);
  process.exitCode = 1;
} else {
  console.log("\n✔ Everything reconciles.");
}
