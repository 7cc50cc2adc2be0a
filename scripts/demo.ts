/**
 * The QRSettle demo, end to end on an in-process Hardhat chain: three banks in two currencies, each running its
 * relayer; merchants show EMV QR codes (saved as PNG under out/demo), customers scan the PNGs, sign EIP-712
 * payments and submit them to their bank's relayer; a refund, a refused payment, a cross-currency payment and a
 * burst that shows batching; then balances, and an audit of the chain from its events alone.
 * Exits 0 only if every payment ended as expected and the audit passed.
 *
 * Run with `./npmw run demo` (or `qrsettle demo`).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import { network } from "hardhat";
import { custom, getContract, parseEther, type Address, type Hex, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

import { auditWithClient } from "../src/cli/audit.ts";
import { RelayerClient, RelayerClientError } from "../src/client/relayerClient.ts";
import { writeDeploymentFile } from "../src/deploy/deploymentFile.ts";
import { deployNetwork, type Signer } from "../src/deploy/network.ts";
import { SAMPLE_CURRENCIES, sampleNetworkSpec } from "../src/deploy/sample.ts";
import {
  bankRegistryAbi,
  formatAmount,
  fromWireFxQuote,
  fxPaymentFromRequest,
  fxTypes,
  parseAmount,
  toWireFxPayment,
  ledgerDomain,
  ledgerTypes,
  paymentFromRequest,
  settlementLedgerAbi,
  type Payment,
} from "../src/protocol/index.ts";
import {
  decodeQrImage,
  decodeQrSettleRequest,
  encodeQrSettleRequest,
  renderQrPng,
  renderQrTerminal,
  type QrSettleRequest,
} from "../src/qr/index.ts";
import { hashApiKey } from "../src/relayer/api/auth.ts";
import { parseRelayerConfig } from "../src/relayer/config.ts";
import { startRelayer, type Relayer } from "../src/relayer/relayer.ts";

const { CNY, HKD } = SAMPLE_CURRENCIES;
const CODES: Record<number, string> = { [CNY]: "CNY", [HKD]: "HKD" };
/** Payments in the burst; enough for the batcher to fill several transactions. */
const BURST = 300;
const BURST_PAYERS = 30;

const started = Date.now();
const step = (text: string): void => {
  console.log(`\n▶ ${text}`);
};
const money = (currency: number, minor: bigint): string =>
  `${CODES[currency] ?? currency} ${formatAmount(minor, 2)}`;
const problems: string[] = [];
const check = (what: string, ok: boolean, detail = ""): void => {
  console.log(`  ${ok ? "✔" : "✘"} ${what}${detail === "" ? "" : `: ${detail}`}`);
  if (!ok) problems.push(what);
};

const outDir = path.resolve(import.meta.dirname, "../out/demo");
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

// ── The chain and the network ────────────────────────────────────────────────────────────────────────────
const connection = await network.create();
const relayers = new Map<number, { relayer: Relayer; client: RelayerClient }>();
/** Stops every relayer still running; the demo does so before its audit, and on any failure. */
async function stopRelayers(): Promise<void> {
  for (const [bank, { relayer }] of relayers) {
    relayers.delete(bank);
    await relayer.stop();
  }
}

// Whatever happens, stop the relayers and the chain, so that a failure ends the process (exit code 1).
try {
  const publicClient = (await connection.viem.getPublicClient()) as PublicClient;
  const signers = (await connection.viem.getWalletClients()) as unknown as Signer[];
  const signerByAddress = new Map(signers.map((s) => [s.account.address.toLowerCase(), s]));
  const signerFor = (address: Address): Signer => {
    const signer = signerByAddress.get(address.toLowerCase());
    if (signer === undefined) throw new Error(`no key for ${address}`);
    return signer;
  };
  const confirm = async (pending: Promise<Hex>) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await pending });
    if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} failed`);
    return receipt;
  };

  step("Deploying the registry, the ledger and the FX module; onboarding three banks in CNY and HKD");
  const spec = sampleNetworkSpec(signers.map((s) => s.account.address));
  const deployment = await deployNetwork(publicClient, signerFor, spec);
  const deploymentFile = path.join(outDir, "deployment.json");
  await writeDeploymentFile(deploymentFile, deployment);
  console.log(`  BankRegistry      ${deployment.registry}`);
  console.log(`  SettlementLedger  ${deployment.ledger}  (chain ${deployment.chainId})`);
  console.log(`  FxSettlement      ${deployment.fx}`);
  const banks = spec.banks.map((bank) => ({ ...bank, id: deployment.banks[bank.bic] as number }));
  const [alpha, beta, gamma] = banks as [(typeof banks)[0], (typeof banks)[0], (typeof banks)[0]];
  for (const bank of banks) console.log(`  bank ${bank.id}  ${bank.bic}  ${bank.name}`);

  const ledgerAs = (address: Address) =>
    getContract({
      address: deployment.ledger,
      abi: settlementLedgerAbi,
      client: { public: publicClient, wallet: signerFor(address) },
    });
  const reader = ledgerAs(alpha.admin).read;

  // ── Each bank's relayer ──────────────────────────────────────────────────────────────────────────────────
  step("Starting each bank's relayer: a fresh hot wallet, a SQLite queue, an HTTP API on a free port");
  const apiKey = randomBytes(24).toString("hex");
  /** A fresh key, funded with gas money and registered as one of `bank`'s relayer keys. */
  async function newRelayerKey(bank: (typeof banks)[0]): Promise<Hex> {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    await confirm(signerFor(spec.governor).sendTransaction({ to: address, value: parseEther("10") }));
    await confirm(
      signerFor(bank.admin).writeContract({
        address: deployment.registry,
        abi: bankRegistryAbi,
        functionName: "setRelayer",
        args: [address, true],
      }),
    );
    return key;
  }
  /**
   * Gamma Bank holds CNY and HKD reserves and quotes CNY → HKD, signing with a key kept for quoting only; Alpha
   * Bank's relayer asks Gamma's for quotes. Gamma starts first so Alpha knows where to ask.
   */
  const fxRoles = new Map<number, { fx: Record<string, unknown>; env: Record<string, string> }>([
    [
      gamma.id,
      {
        fx: { provider: { rates: { "CNY/HKD": "1.0850" }, validitySeconds: 120 } },
        env: { QRSETTLE_RELAYER_FX_QUOTE_KEY: await newRelayerKey(gamma) },
      },
    ],
  ]);
  for (const bank of [gamma, alpha, beta]) {
    const hotWallet = await newRelayerKey(bank);
    const fxRole = fxRoles.get(bank.id) ?? {
      fx: {
        providers: [
          { url: (relayers.get(gamma.id) as { relayer: Relayer }).relayer.url, apiKeyEnv: "GAMMA_API_KEY" },
        ],
      },
      env: { GAMMA_API_KEY: apiKey },
    };
    const config = parseRelayerConfig({
      instanceId: bank.bic,
      // The chain is this process's Hardhat network (the transport below); the URL only satisfies the schema.
      chain: {
        rpcUrl: "http://127.0.0.1:8545",
        chainId: deployment.chainId,
        ledger: deployment.ledger,
        fx: deployment.fx,
        confirmations: 1,
        pollIntervalMs: 100,
      },
      store: { kind: "sqlite", sqlitePath: path.join(outDir, `relayer-${bank.bic}.sqlite`) },
      batch: { windowMs: 250 },
      // One API key for the demo's wallets and for Alpha's relayer asking Gamma's for quotes.
      api: { port: 0, clients: [{ id: "demo", keySha256: hashApiKey(apiKey), ratePerSecond: 10_000 }] },
      fx: fxRole.fx,
      log: { level: "warn" },
    });
    const relayer = await startRelayer(config, {
      env: { QRSETTLE_RELAYER_KEYS: hotWallet, ...fxRole.env },
      transport: custom(connection.provider),
    });
    relayers.set(bank.id, { relayer, client: new RelayerClient({ url: relayer.url, apiKey }) });
    const role =
      bank.id === gamma.id ? ", quotes CNY → HKD" : bank.id === alpha.id ? ", asks Gamma for FX quotes" : "";
    console.log(
      `  ${bank.name.padEnd(11)} relayer ${relayer.url}  hot wallet ${privateKeyToAccount(hotWallet).address}${role}`,
    );
  }
  const relayerOf = (bankId: number): RelayerClient => {
    const entry = relayers.get(bankId);
    if (entry === undefined) throw new Error(`bank ${bankId} runs no relayer`);
    return entry.client;
  };

  // ── Customers and merchants ──────────────────────────────────────────────────────────────────────────────
  step("Opening accounts: customers at Alpha Bank, merchants at Alpha, Beta and Gamma");
  interface Party {
    name: string;
    account: PrivateKeyAccount;
    bank: (typeof banks)[0];
    currency: number;
  }
  const party = (name: string, bank: (typeof banks)[0], currency: number): Party => ({
    name,
    account: privateKeyToAccount(generatePrivateKey()),
    bank,
    currency,
  });
  const liWei = party("Li Wei", alpha, CNY);
  const chenJing = party("Chen Jing", alpha, CNY);
  const teaHouse = party("Tea House", alpha, CNY);
  const noodleBar = party("Noodle Bar", beta, CNY);
  const harbourCafe = party("Harbour Café", gamma, HKD);
  const people = [liWei, chenJing, teaHouse, noodleBar, harbourCafe];
  const burstPayers = Array.from({ length: BURST_PAYERS }, (_, i) => party(`Payer ${i + 1}`, alpha, CNY));
  await confirm(ledgerAs(alpha.admin).write.issueDeposits([liWei.account.address, CNY, 500_00n]));
  await confirm(ledgerAs(alpha.admin).write.issueDeposits([chenJing.account.address, CNY, 40_00n]));
  for (const merchant of [teaHouse, noodleBar, harbourCafe])
    await confirm(
      ledgerAs(merchant.bank.admin).write.openAccount([merchant.account.address, merchant.currency]),
    );
  for (const payer of burstPayers)
    await confirm(ledgerAs(alpha.admin).write.issueDeposits([payer.account.address, CNY, 1_000_00n]));

  async function balances(): Promise<void> {
    for (const { name, account, currency } of people)
      console.log(
        `  ${name.padEnd(22)} ${money(currency, await reader.balanceOf([account.address, currency]))}`,
      );
    for (const bank of banks) {
      for (const currency of [CNY, HKD]) {
        const [reserves, deposits] = await reader.getPosition([bank.id, currency]);
        if (reserves === 0n && deposits === 0n) continue;
        console.log(
          `  ${bank.name.padEnd(11)} ${CODES[currency]}  reserves ${money(currency, reserves).padStart(17)}, ` +
            `customer deposits ${money(currency, deposits)}`,
        );
      }
    }
  }
  step("Balances before");
  await balances();

  // ── QR codes ─────────────────────────────────────────────────────────────────────────────────────────────
  step("Merchants show QR codes (saved as PNG): dynamic codes with an amount, and a static sticker");
  const chainId = BigInt(deployment.chainId);
  const codeFor = (merchant: Party, fields: Partial<QrSettleRequest>): string =>
    encodeQrSettleRequest({
      chainId,
      ledger: deployment.ledger.toLowerCase() as Address,
      payeeBank: merchant.bank.id,
      payee: merchant.account.address.toLowerCase() as Address,
      currency: merchant.currency,
      merchantName: merchant.name.toUpperCase(),
      merchantCity: "BEIJING",
      countryCode: "CN",
      mcc: "5812",
      pointOfInitiation: "static",
      ...fields,
    });
  const codes = {
    "noodle-bar-dynamic.png": codeFor(noodleBar, {
      amount: "128.50",
      reference: "TABLE-12",
      pointOfInitiation: "dynamic",
      alternateLanguage: { languagePreference: "ZH", merchantName: "面馆", merchantCity: "北京" },
    }),
    "tea-house-static.png": codeFor(teaHouse, { merchantCity: "SHANGHAI", mcc: "5814" }),
    "noodle-bar-static.png": codeFor(noodleBar, {}),
    "harbour-cafe-dynamic.png": codeFor(harbourCafe, {
      amount: "88.00",
      reference: "ORDER-88",
      pointOfInitiation: "dynamic",
      merchantName: "HARBOUR CAFE",
      alternateLanguage: { languagePreference: "ZH", merchantName: "海港咖啡", merchantCity: "香港" },
      merchantCity: "HONG KONG",
      countryCode: "HK",
    }),
  };
  for (const [file, payload] of Object.entries(codes)) {
    await writeFile(path.join(outDir, file), renderQrPng(payload));
    console.log(`  ${path.relative(process.cwd(), path.join(outDir, file))}  ${payload}`);
  }
  console.log(renderQrTerminal(codes["noodle-bar-dynamic.png"]).replace(/^/gm, "  "));

  // ── Paying ───────────────────────────────────────────────────────────────────────────────────────────────
  const deadline = (await publicClient.getBlock()).timestamp + 3_600n;
  const nextNonce = new Map<string, bigint>();
  /** Scans a PNG the way a wallet app does, and signs the payment it asks for. */
  async function scanAndSign(payer: Party, png: string, typedAmount?: string) {
    const payload = decodeQrImage(await readFile(path.join(outDir, png)));
    const request = decodeQrSettleRequest(payload);
    const nonce = nextNonce.get(payer.account.address) ?? 0n;
    nextNonce.set(payer.account.address, nonce + 1n);
    const { payment, domain } = paymentFromRequest({
      request,
      payload,
      payer: payer.account.address,
      nonce,
      deadline,
      amount: typedAmount,
    });
    const signature = await payer.account.signTypedData({
      domain,
      types: ledgerTypes,
      primaryType: "Payment",
      message: payment,
    });
    return { payment, signature, request };
  }
  /** Submits to the payer's bank's relayer and waits until final; returns the id. */
  async function pay(payer: Party, png: string, expected: "settled", typedAmount?: string) {
    const { payment, signature, request } = await scanAndSign(payer, png, typedAmount);
    const relayer = relayerOf(payer.bank.id);
    const { id } = await relayer.submitPayment({ payment, signature });
    const final = await relayer.waitForFinal("payment", id);
    check(
      `${payer.name} pays ${request.merchantName} ${money(payment.currency, payment.amount)} (${request.pointOfInitiation} code)`,
      final.status === expected,
      `${final.status} in block ${final.blockNumber ?? "-"}, tx ${final.txHash ?? "-"}`,
    );
    return { id, payment };
  }

  step("Customers scan the PNGs, sign EIP-712 payments and submit them to Alpha Bank's relayer");
  const dinner = await pay(liWei, "noodle-bar-dynamic.png", "settled"); // cross-bank: reserves move Alpha → Beta
  await pay(chenJing, "tea-house-static.png", "settled", "18.00"); // same bank, amount typed by the payer

  step("Chen Jing tries to pay CNY 128.50 holding CNY 22.00: the relayer refuses it, nothing is queued");
  try {
    const { payment, signature } = await scanAndSign(chenJing, "noodle-bar-dynamic.png");
    await relayerOf(alpha.id).submitPayment({ payment, signature });
    check("the relayer refuses a payment the balance cannot cover", false, "it was accepted");
  } catch (error) {
    const code = error instanceof RelayerClientError ? error.code : String(error);
    check("the relayer refuses a payment the balance cannot cover", code === "INSUFFICIENT_BALANCE", code);
  }

  step("Noodle Bar refunds CNY 28.50 of Li Wei's payment through Beta Bank's relayer");
  {
    const refund = { paymentId: dinner.id, amount: 28_50n, nonce: 0n, deadline };
    const signature = await noodleBar.account.signTypedData({
      domain: ledgerDomain(deployment.chainId, deployment.ledger),
      types: ledgerTypes,
      primaryType: "Refund",
      message: refund,
    });
    const relayer = relayerOf(beta.id);
    const { id } = await relayer.submitRefund(refund, dinner.payment, signature);
    const final = await relayer.waitForFinal("refund", id);
    check("refund of CNY 28.50 settled", final.status === "settled", `tx ${final.txHash ?? "-"}`);
  }

  let fxPaid: bigint;
  step("Li Wei, holding CNY, scans Harbour Café's HKD code: a quote, both amounts, one atomic settlement");
  {
    const png = "harbour-cafe-dynamic.png";
    const payload = decodeQrImage(await readFile(path.join(outDir, png)));
    const request = decodeQrSettleRequest(payload);
    const receiveAmount = parseAmount(request.amount ?? "0", 2);
    const alphaRelayer = relayerOf(alpha.id);
    const { quotes } = await alphaRelayer.quotes({
      from: "CNY",
      to: request.currency,
      amount: receiveAmount,
    });
    const offer = quotes[0];
    if (offer === undefined) throw new Error("no FX provider quoted CNY → HKD");
    const quote = fromWireFxQuote(offer.quote);
    const nonce = nextNonce.get(liWei.account.address) ?? 0n;
    nextNonce.set(liWei.account.address, nonce + 1n);
    const { payment, domain } = fxPaymentFromRequest(
      { request, payload, payer: liWei.account.address, quote, nonce, deadline },
      deployment.fx,
    );
    console.log(
      `  quote from bank ${quote.provider}: 1 CNY = ${formatAmount(quote.rate, 18).replace(/0+$/, "")} HKD, ` +
        `valid until block time ${quote.expiry}`,
    );
    console.log(
      `  Li Wei's wallet shows: pay ${money(CNY, payment.payAmount)} → Harbour Café gets ${money(HKD, payment.receiveAmount)}`,
    );
    const signature = await liWei.account.signTypedData({
      domain,
      types: fxTypes,
      primaryType: "FxPayment",
      message: payment,
    });
    const { id } = await alphaRelayer.submitFxPayment({
      quote: offer.quote,
      quoteSignature: offer.quoteSignature,
      payment: toWireFxPayment(payment),
      signature,
    });
    const final = await alphaRelayer.waitForFinal("fx-payment", id);
    fxPaid = payment.payAmount;
    check(
      `cross-currency payment settled, both legs in one transaction`,
      final.status === "settled",
      `${final.status}, tx ${final.txHash ?? "-"}`,
    );
  }

  step(`A burst: ${BURST} payments from ${BURST_PAYERS} customers to Tea House and Noodle Bar, all at once`);
  const burst: { payment: Payment; signature: Hex }[] = [];
  for (let i = 0; i < BURST; i++) {
    const payer = burstPayers[i % BURST_PAYERS] as Party;
    const png = i % 2 === 0 ? "tea-house-static.png" : "noodle-bar-static.png";
    burst.push(await scanAndSign(payer, png, `${1 + (i % 9)}.${String(i % 100).padStart(2, "0")}`));
  }
  const burstStart = Date.now();
  const accepted = await Promise.all(burst.map((signed) => relayerOf(alpha.id).submitPayment(signed)));
  const finals = await Promise.all(accepted.map(({ id }) => relayerOf(alpha.id).waitForFinal("payment", id)));
  const burstSeconds = (Date.now() - burstStart) / 1000;
  const transactions = new Set(finals.map((final) => final.txHash));
  check(
    `${BURST} payments settled`,
    finals.every((final) => final.status === "settled"),
    `${finals.filter((final) => final.status === "settled").length} settled in ${transactions.size} transactions, ${burstSeconds.toFixed(1)} s`,
  );

  step("Balances after");
  await balances();
  const balanceOf = (who: Party) => reader.balanceOf([who.account.address, who.currency]);
  check(
    "Li Wei paid CNY 128.50 and the FX payment, and got CNY 28.50 back",
    (await balanceOf(liWei)) === 500_00n - 128_50n + 28_50n - fxPaid,
  );
  check("Harbour Café received HKD 88.00", (await balanceOf(harbourCafe)) === 88_00n);
  check("Chen Jing's refused payment left her CNY 22.00", (await balanceOf(chenJing)) === 22_00n);

  // ── Stopping the relayers, then the audit ────────────────────────────────────────────────────────────────
  await stopRelayers();

  step("Auditing: rebuilding every balance from the chain's events and re-verifying every signature");
  const auditCode = await auditWithClient(
    {
      client: publicClient,
      deploymentFile,
      confirmations: 0n,
      outDir: path.join(outDir, "audit"),
      dbFile: path.join(outDir, "audit.sqlite"),
    },
    {
      stdout: (line) => {
        console.log(`  ${line}`);
      },
      stderr: (line) => {
        console.log(`  ${line}`);
      },
    },
  );
  check("the audit passed", auditCode === 0);
} finally {
  await stopRelayers();
  await connection.close();
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (problems.length > 0) {
  console.error(`\n✘ ${problems.length} check(s) failed in ${seconds} s: ${problems.join("; ")}`);
  process.exitCode = 1;
} else {
  console.log(`\n✔ Everything settled as expected and reconciles (${seconds} s).`);
}
