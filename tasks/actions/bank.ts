import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { getContract, toHex } from "viem";

import { ROLES } from "../../src/deploy/network.ts";
import { QRSettleError } from "../../src/protocol/errors.ts";
import { bankRegistryAbi } from "../../src/protocol/generated/abi.ts";
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

interface BankArguments extends CommonTaskArguments {
  action: string;
  bank: string;
  bic: string;
  name: string;
  admin: string;
  relayer: string;
  currency: string;
  debitCap: string;
  maxPayment: string;
  from: string;
}

const ACTIONS = ["register", "suspend", "resume", "limits", "add-relayer", "remove-relayer"] as const;

/**
 * `qrsettle bank <action>`: register, suspend or resume a bank and set its caps (operator); add or remove one
 * of its relayers (the bank's admin).
 */
export default async function bankAction(args: BankArguments, hre: HardhatRuntimeEnvironment) {
  return runTask(async () => {
    const ctx = await openContext(hre, args.deployment);
    const action = args.action as (typeof ACTIONS)[number];
    const isOperator = (address: `0x${string}`) => ctx.registry.hasRole([ROLES.operator, address]);
    const registryAs = async (need: string, qualifies: (a: `0x${string}`) => Promise<boolean>) => {
      const signer = await chooseSigner(ctx, args.from, need, qualifies);
      return getContract({
        address: ctx.deployment.registry,
        abi: bankRegistryAbi,
        client: { public: ctx.publicClient, wallet: signer },
      });
    };

    switch (action) {
      case "register": {
        const registry = await registryAs("the operator", isOperator);
        const bic = toHex(args.bic.padEnd(11, "X"), { size: 11 });
        const admin = addressArgument("admin", args.admin);
        const bankId = (await ctx.registry.bankCount()) + 1;
        const tx = await ctx.confirm(registry.write.registerBank([bic, args.name, admin]));
        report(
          args.json,
          { action, bankId, bic: args.bic, ...tx },
          `Registered ${args.bic} "${args.name}" as bank ${bankId} (tx ${tx.hash}).`,
        );
        return;
      }
      case "suspend":
      case "resume": {
        const registry = await registryAs("the operator", isOperator);
        const bankId = bankArgument(ctx, args.bank);
        const tx = await ctx.confirm(registry.write.setBankStatus([bankId, action === "suspend" ? 2 : 1]));
        report(
          args.json,
          { action, bankId, ...tx },
          `Bank ${bankId} ${action === "suspend" ? "suspended" : "resumed"} (tx ${tx.hash}).`,
        );
        return;
      }
      case "limits": {
        const registry = await registryAs("the operator", isOperator);
        const bankId = bankArgument(ctx, args.bank);
        const currency = currencyArgument(args.currency);
        const debitCap = amountArgument(args.debitCap, currency);
        const maxPayment = amountArgument(args.maxPayment, currency);
        const tx = await ctx.confirm(
          registry.write.setBankLimits([bankId, currency.numeric, debitCap, maxPayment]),
        );
        report(
          args.json,
          { action, bankId, currency: currency.alpha, debitCap, maxPayment, ...tx },
          `Bank ${bankId} ${currency.alpha}: debit cap ${args.debitCap}, max payment ${args.maxPayment} (tx ${tx.hash}).`,
        );
        return;
      }
      case "add-relayer":
      case "remove-relayer": {
        const bankId = bankArgument(ctx, args.bank);
        const registry = await registryAs(
          `the admin of bank ${bankId}`,
          async (a) => (await ctx.registry.adminBank([a])) === bankId,
        );
        const relayer = addressArgument("relayer", args.relayer);
        const tx = await ctx.confirm(registry.write.setRelayer([relayer, action === "add-relayer"]));
        report(
          args.json,
          { action, bankId, relayer, ...tx },
          `${action === "add-relayer" ? "Added" : "Removed"} relayer ${relayer} of bank ${bankId} (tx ${tx.hash}).`,
        );
        return;
      }
      default:
        throw new QRSettleError("TASK_BAD_ARGUMENT", "Unknown bank action.", {
          details: { action: args.action, expected: ACTIONS.join(", ") },
        });
    }
  });
}
