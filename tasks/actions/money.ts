import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getContract } from "viem";

import { ROLES } from "../../src/deploy/network.ts";
import { QRSettleError } from "../../src/protocol/errors.ts";
import { settlementLedgerAbi } from "../../src/protocol/generated/abi.ts";
import {
  addressArgument,
  amountArgument,
  bankArgument,
  chooseSigner,
  currencyArgument,
  openContext,
  report,
  runTask,
  type CommonTaskArguments,
} from "../context.ts";

/** Arguments of `qrsettle reserves` and `qrsettle deposits`. */
export interface MoneyArguments extends CommonTaskArguments {
  action: string;
  bank: string;
  account: string;
  currency: string;
  amount: string;
  from: string;
}

/**
 * `qrsettle reserves issue|redeem` (the settlement agent, against off-chain reserves) and
 * `qrsettle deposits issue|redeem|open` (a bank's admin, for its customer: cash-in, cash-out, or opening an
 * empty account for a merchant).
 */
export async function moneyAction(
  kind: "reserves" | "deposits",
  args: MoneyArguments,
  hre: HardhatRuntimeEnvironment,
) {
  return runTask(async () => {
    const ctx = await openContext(hre, args.deployment);
    const currency = currencyArgument(args.currency);
    const bankId = bankArgument(ctx, args.bank);
    // Returns the contract, not its `write` proxy: a promise resolving to the proxy would probe it for `then`.
    const ledgerAs = async (need: string, qualifies: (a: `0x${string}`) => Promise<boolean>) =>
      getContract({
        address: ctx.deployment.ledger,
        abi: settlementLedgerAbi,
        client: { public: ctx.publicClient, wallet: await chooseSigner(ctx, args.from, need, qualifies) },
      });

    if (kind === "reserves") {
      if (args.action !== "issue" && args.action !== "redeem")
        throw unknownAction(args.action, "issue, redeem");
      const amount = amountArgument(args.amount, currency);
      const ledger = (
        await ledgerAs("the settlement agent", (a) => ctx.registry.hasRole([ROLES.settlementAgent, a]))
      ).write;
      const tx = await ctx.confirm(
        args.action === "issue"
          ? ledger.issueReserves([bankId, currency.numeric, amount])
          : ledger.redeemReserves([bankId, currency.numeric, amount]),
      );
      const [reserves] = await ctx.ledger.getPosition([bankId, currency.numeric]);
      report(
        args.json,
        { action: `reserves ${args.action}`, bankId, currency: currency.alpha, amount, reserves, ...tx },
        `${args.action === "issue" ? "Issued" : "Redeemed"} ${currency.alpha} ${args.amount} of reserves for bank ${bankId}; it now holds ${reserves} minor units (tx ${tx.hash}).`,
      );
      return;
    }

    if (!["issue", "redeem", "open"].includes(args.action))
      throw unknownAction(args.action, "issue, redeem, open");
    const account = addressArgument("account", args.account);
    const ledger = (
      await ledgerAs(
        `the admin of bank ${bankId}`,
        async (a) => (await ctx.registry.adminBank([a])) === bankId,
      )
    ).write;
    const amount = args.action === "open" ? 0n : amountArgument(args.amount, currency);
    const tx = await ctx.confirm(
      args.action === "open"
        ? ledger.openAccount([account, currency.numeric])
        : args.action === "issue"
          ? ledger.issueDeposits([account, currency.numeric, amount])
          : ledger.redeemDeposits([account, currency.numeric, amount]),
    );
    const balance = await ctx.ledger.balanceOf([account, currency.numeric]);
    report(
      args.json,
      {
        action: `deposits ${args.action}`,
        bankId,
        account,
        currency: currency.alpha,
        amount,
        balance,
        ...tx,
      },
      `${args.action === "open" ? "Opened" : args.action === "issue" ? "Issued to" : "Redeemed from"} ${account} at bank ${bankId}; balance ${balance} minor units of ${currency.alpha} (tx ${tx.hash}).`,
    );
  });
}

function unknownAction(action: string, expected: string): QRSettleError {
  return new QRSettleError("TASK_BAD_ARGUMENT", "Unknown action.", { details: { action, expected } });
}
