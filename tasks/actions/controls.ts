import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getContract } from "viem";

import { ROLES } from "../../src/deploy/network.ts";
import { QRSettleError } from "../../src/protocol/errors.ts";
import { bankRegistryAbi, settlementLedgerAbi } from "../../src/protocol/generated/abi.ts";
import {
  addressArgument,
  chooseSigner,
  currencyArgument,
  openContext,
  report,
  runTask,
  type CommonTaskArguments,
} from "../context.ts";

interface ControlArguments extends CommonTaskArguments {
  action: string;
  account: string;
  currency: string;
  from: string;
}

/**
 * `qrsettle account freeze|unfreeze` (the account's bank admin or the freezer) and
 * `qrsettle network pause|unpause` (the pauser).
 */
export default async function controlAction(args: ControlArguments, hre: HardhatRuntimeEnvironment) {
  return runTask(async () => {
    const ctx = await openContext(hre, args.deployment);
    if (!["freeze", "unfreeze", "pause", "unpause"].includes(args.action)) {
      throw new QRSettleError("TASK_BAD_ARGUMENT", "Unknown action.", {
        details: { action: args.action, expected: "account: freeze, unfreeze; network: pause, unpause" },
      });
    }
    if (args.action === "pause" || args.action === "unpause") {
      const signer = await chooseSigner(ctx, args.from, "the pauser", (a) =>
        ctx.registry.hasRole([ROLES.pauser, a]),
      );
      const registry = getContract({
        address: ctx.deployment.registry,
        abi: bankRegistryAbi,
        client: { public: ctx.publicClient, wallet: signer },
      });
      const tx = await ctx.confirm(
        args.action === "pause" ? registry.write.pause() : registry.write.unpause(),
      );
      report(
        args.json,
        { action: args.action, ...tx },
        `Network ${args.action === "pause" ? "paused" : "resumed"} (tx ${tx.hash}).`,
      );
      return;
    }
    const account = addressArgument("account", args.account);
    const currency = currencyArgument(args.currency);
    const { bankId } = await ctx.ledger.getAccount([account, currency.numeric]);
    const signer = await chooseSigner(
      ctx,
      args.from,
      "the freezer or the account's bank admin",
      async (a) =>
        (bankId !== 0 && (await ctx.registry.adminBank([a])) === bankId) ||
        ctx.registry.hasRole([ROLES.freezer, a]),
    );
    const ledger = getContract({
      address: ctx.deployment.ledger,
      abi: settlementLedgerAbi,
      client: { public: ctx.publicClient, wallet: signer },
    });
    const tx = await ctx.confirm(
      ledger.write.setFrozen([account, currency.numeric, args.action === "freeze"]),
    );
    report(
      args.json,
      { action: args.action, account, currency: currency.alpha, by: signer.account.address, ...tx },
      `${account} ${args.action === "freeze" ? "frozen" : "unfrozen"} in ${currency.alpha} by ${signer.account.address} (tx ${tx.hash}).`,
    );
  });
}
