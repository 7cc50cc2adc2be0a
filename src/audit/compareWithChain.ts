import type { Address, PublicClient } from "viem";

import { bankRegistryAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import type { AuditedDeployment } from "./verifyDeployment.ts";
import type { CheckId, Evidence, FindingCollector } from "./findings.ts";
import type { LedgerReplay } from "./ledgerReplay.ts";
import type { PaymentIndex } from "./paymentIndex.ts";

/** Calls in flight at once: enough to fill JSON-RPC batches, few enough to be polite to the node. */
const CONCURRENCY = 64;

/** Options of {@link compareWithChain}. */
export interface CompareWithChainOptions {
  client: PublicClient;
  deployment: AuditedDeployment;
  /** The block whose state the rebuilt state is compared with: the last indexed one. */
  blockNumber: bigint;
  blockHash: `0x${string}`;
  replay: LedgerReplay;
  payments: PaymentIndex;
  findings: FindingCollector;
}

/**
 * Compares the state rebuilt from events with the contracts' own views at the last indexed block, for
 * every account, bank position, currency, refunded payment, batch root, bank, cap, relayer, admin and role
 * the events mention. Also checks the totals against each other: per currency, reserves held = issued −
 * redeemed; per bank, deposits = issued − redeemed + settled in − out + cross-currency received − paid = its
 * customers' balances. (FX quote consumption is compared by `FxChecker.compareQuotes`.)
 *
 * @example
 * await compareWithChain({ client, deployment, blockNumber, blockHash, replay, payments, findings });
 */
export async function compareWithChain(options: CompareWithChainOptions): Promise<void> {
  const { client, deployment, blockNumber, replay, payments, findings } = options;
  const at: Evidence = { blockNumber: Number(blockNumber), transactionHash: options.blockHash };
  const ledger = { address: deployment.ledger, abi: settlementLedgerAbi, blockNumber } as const;
  const registry = { address: deployment.registry, abi: bankRegistryAbi, blockNumber } as const;
  /** A value rebuilt from events against the contract's view of it. */
  const compare = (check: CheckId, what: string, rebuilt: unknown, contract: unknown): void => {
    if (String(rebuilt).toLowerCase() === String(contract).toLowerCase()) return;
    findings.fail({
      check,
      message: `${what}: rebuilt from events ${String(rebuilt)}, contract ${String(contract)}`,
      evidence: at,
      details: { rebuilt: String(rebuilt), contract: String(contract) },
    });
  };
  /** Two totals rebuilt from different events that must agree. */
  const balance = (check: CheckId, what: string, left: bigint, right: bigint): void => {
    if (left === right) return;
    findings.fail({
      check,
      message: `${what}: ${left} ≠ ${right}`,
      evidence: at,
      details: { left: String(left), right: String(right) },
    });
  };

  await inChunks([...replay.accounts.values()], async (account) => {
    findings.examined("state.accounts");
    const onChain = await client.readContract({
      ...ledger,
      functionName: "getAccount",
      args: [account.address, account.currency],
    });
    const what = `account ${account.address} in ${account.currency}`;
    compare("state.accounts", `${what}, bank`, account.bank, onChain.bankId);
    compare("state.accounts", `${what}, balance`, account.balance, onChain.balance);
    compare("state.accounts", `${what}, frozen`, account.frozen, onChain.frozen);
    compare("state.accounts", `${what}, limited`, account.limited, onChain.limited);
    compare("state.accounts", `${what}, nonce base`, account.nonces.base, onChain.nonceBase);
    compare("state.accounts", `${what}, nonce bitmap`, account.nonces.bitmap, onChain.nonceBitmap);
    if (account.limit === undefined) return;
    findings.examined("state.customerLimits");
    const limit = await client.readContract({
      ...ledger,
      functionName: "getCustomerLimit",
      args: [account.address, account.currency],
    });
    compare("state.customerLimits", `${what}, daily limit`, account.limit.dailyLimit, limit.dailyLimit);
    compare("state.customerLimits", `${what}, spent today`, account.limit.spentToday, limit.spentToday);
    compare("state.customerLimits", `${what}, day`, account.limit.day, limit.day);
  });

  const balancesByBank = new Map<string, bigint>();
  for (const account of replay.accounts.values()) {
    const key = `${account.bank}:${account.currency}`;
    balancesByBank.set(key, (balancesByBank.get(key) ?? 0n) + account.balance);
  }
  await inChunks([...replay.positions.values()], async (position) => {
    findings.examined("state.positions");
    findings.examined("supply.deposits");
    const what = `bank ${position.bank} in ${position.currency}`;
    const [reserves, deposits] = await client.readContract({
      ...ledger,
      functionName: "getPosition",
      args: [position.bank, position.currency],
    });
    compare("state.positions", `${what}, reserves`, position.reserves, reserves);
    compare("state.positions", `${what}, deposits`, position.deposits, deposits);
    const flows =
      position.depositsIssued -
      position.depositsRedeemed +
      position.settledIn -
      position.settledOut +
      position.fxReceived -
      position.fxPaid;
    balance(
      "supply.deposits",
      `${what}, deposits issued − redeemed + settled in − out + cross-currency received − paid against deposits`,
      flows,
      deposits,
    );
    const customers = balancesByBank.get(`${position.bank}:${position.currency}`) ?? 0n;
    balance(
      "supply.deposits",
      `${what}, deposits issued − redeemed + settled in − out + cross-currency received − paid against its customers' balances`,
      flows,
      customers,
    );
  });

  const currencies = new Set([...replay.supplies.keys(), ...replay.currencies.keys()]);
  await inChunks([...currencies], async (currency) => {
    findings.examined("state.supply");
    findings.examined("supply.reserves");
    const rebuilt = replay.supply(currency);
    const supply = await client.readContract({ ...ledger, functionName: "getSupply", args: [currency] });
    const issuedReserves = rebuilt.reservesIssued - rebuilt.reservesRedeemed;
    // Cross-currency payments destroy deposits in the pay currency and create them in the receive currency.
    const issuedDeposits = rebuilt.depositsIssued - rebuilt.depositsRedeemed + rebuilt.fxIn - rebuilt.fxOut;
    compare("state.supply", `currency ${currency}, reserves`, issuedReserves, supply.reserves);
    compare("state.supply", `currency ${currency}, deposits`, issuedDeposits, supply.deposits);
    let held = 0n;
    for (const position of replay.positions.values())
      if (position.currency === currency) held += position.reserves;
    balance(
      "supply.reserves",
      `currency ${currency}, reserves held by all banks against issued − redeemed`,
      held,
      issuedReserves,
    );
    balance(
      "supply.reserves",
      `currency ${currency}, reserves issued − redeemed against getSupply`,
      issuedReserves,
      supply.reserves,
    );
  });

  await inChunks(payments.refundedPayments(), async ({ id, refunded }) => {
    findings.examined("state.refunds");
    const onChain = await client.readContract({ ...ledger, functionName: "refundedAmount", args: [id] });
    compare("state.refunds", `refunded amount of ${id}`, refunded, onChain);
  });
  await inChunks(payments.batchRoots(), async ({ root, payerBank }) => {
    findings.examined("state.batchRoots");
    const onChain = await client.readContract({ ...ledger, functionName: "batchRootBank", args: [root] });
    compare("state.batchRoots", `payer bank of batch ${root}`, payerBank, onChain);
  });

  await compareRegistry(client, registry, replay, findings, compare);
}

async function compareRegistry(
  client: PublicClient,
  registry: { address: Address; abi: typeof bankRegistryAbi; blockNumber: bigint },
  replay: LedgerReplay,
  findings: FindingCollector,
  compare: (check: CheckId, what: string, rebuilt: unknown, contract: unknown) => void,
): Promise<void> {
  const check = "state.registry";
  findings.examined(check);
  compare(
    check,
    "bank count",
    replay.banks.size,
    await client.readContract({ ...registry, functionName: "bankCount" }),
  );
  compare(check, "paused", replay.paused, await client.readContract({ ...registry, functionName: "paused" }));
  await inChunks([...replay.banks.values()], async (bank) => {
    findings.examined(check);
    const info = await client.readContract({ ...registry, functionName: "getBank", args: [bank.id] });
    compare(check, `bank ${bank.id} status`, bank.status, info.status);
    compare(check, `bank ${bank.id} admin`, bank.admin, info.admin);
    compare(check, `bank ${bank.id} BIC`, bank.bic, info.bic);
    compare(check, `bank ${bank.id} name`, bank.name, info.name);
  });
  await inChunks([...replay.bankLimits.values()], async (limits) => {
    findings.examined(check);
    const what = `caps of bank ${limits.bank} in ${limits.currency}`;
    const onChain = await client.readContract({
      ...registry,
      functionName: "getBankLimits",
      args: [limits.bank, limits.currency],
    });
    compare(check, `${what}, debit cap`, limits.debitCap, onChain.debitCap);
    compare(check, `${what}, max payment`, limits.maxPayment, onChain.maxPayment);
  });
  await inChunks([...replay.currencies], async ([code, currency]) => {
    findings.examined(check);
    const onChain = await client.readContract({ ...registry, functionName: "getCurrency", args: [code] });
    compare(check, `currency ${code} enabled`, currency.enabled, onChain.enabled);
    compare(check, `currency ${code} exponent`, currency.exponent, onChain.exponent);
  });
  await inChunks([...replay.relayers], async ([relayer, bank]) => {
    findings.examined(check);
    const onChain = await client.readContract({ ...registry, functionName: "relayerBank", args: [relayer] });
    compare(check, `bank of relayer ${relayer}`, bank, onChain);
  });
  await inChunks([...replay.admins], async ([admin, bank]) => {
    findings.examined(check);
    const onChain = await client.readContract({ ...registry, functionName: "adminBank", args: [admin] });
    compare(check, `bank of admin ${admin}`, bank, onChain);
  });
  await inChunks([...replay.roles.values()], async ({ role, account, held }) => {
    findings.examined(check);
    const onChain = await client.readContract({
      ...registry,
      functionName: "hasRole",
      args: [role, account],
    });
    compare(check, `role ${role} of ${account}`, held, onChain);
  });
}

/** Runs `work` over `items` with at most {@link CONCURRENCY} calls in flight, reading `items` lazily. */
async function inChunks<T>(items: Iterable<T>, work: (item: T) => Promise<void>): Promise<void> {
  let chunk: Promise<void>[] = [];
  for (const item of items) {
    chunk.push(work(item));
    if (chunk.length >= CONCURRENCY) {
      await Promise.all(chunk);
      chunk = [];
    }
  }
  await Promise.all(chunk);
}
