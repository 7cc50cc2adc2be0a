import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import { hexToString } from "viem";

import { formatAmount } from "../../src/protocol/amounts.ts";
import { currencies as iso4217 } from "../../src/protocol/currencies.ts";
import { openContext, report, runTask, type CommonTaskArguments } from "../context.ts";

const STATUS = ["none", "active", "suspended"] as const;

/** `qrsettle status`: the network at a glance — pause, currencies, banks with their reserves and deposits. */
export default async function statusAction(args: CommonTaskArguments, hre: HardhatRuntimeEnvironment) {
  return runTask(async () => {
    const ctx = await openContext(hre, args.deployment);
    const paused = await ctx.registry.paused();
    const listed: ((typeof iso4217)[number] & { enabled: boolean; reserves: bigint; deposits: bigint })[] =
      [];
    for (const currency of iso4217) {
      const config = await ctx.registry.getCurrency([currency.numeric]);
      if (!config.listed) continue;
      const supply = await ctx.ledger.getSupply([currency.numeric]);
      listed.push({
        ...currency,
        enabled: config.enabled,
        reserves: supply.reserves,
        deposits: supply.deposits,
      });
    }
    const banks = [];
    for (let id = 1; id <= (await ctx.registry.bankCount()); id++) {
      const bank = await ctx.registry.getBank([id]);
      const positions = [];
      for (const currency of listed) {
        const [reserves, deposits] = await ctx.ledger.getPosition([id, currency.numeric]);
        positions.push({ currency: currency.alpha, reserves, deposits });
      }
      banks.push({
        id,
        bic: hexToString(bank.bic, { size: 11 }),
        name: bank.name,
        status: STATUS[bank.status],
        admin: bank.admin,
        positions,
      });
    }
    const lines = [
      `network ${ctx.networkName} (chain ${ctx.deployment.chainId})${paused ? "  PAUSED" : ""}`,
      `registry ${ctx.deployment.registry}  ledger ${ctx.deployment.ledger}`,
      ...listed.map(
        (c) =>
          `currency ${c.alpha} (${c.numeric})${c.enabled ? "" : " disabled"}: reserves ${formatAmount(c.reserves, c.exponent)}, deposits ${formatAmount(c.deposits, c.exponent)}`,
      ),
      ...banks.flatMap((b) => [
        `bank ${b.id} ${b.bic} ${b.name} [${b.status}] admin ${b.admin}`,
        ...b.positions.map((p) => {
          const exponent = listed.find((c) => c.alpha === p.currency)?.exponent ?? 0;
          const reserves =
            p.reserves < 0n ? `-${formatAmount(-p.reserves, exponent)}` : formatAmount(p.reserves, exponent);
          return `  ${p.currency}: reserves ${reserves}, customer deposits ${formatAmount(p.deposits, exponent)}`;
        }),
      ]),
    ];
    report(
      args.json,
      { network: ctx.networkName, ...ctx.deployment, paused, currencies: listed, banks },
      lines.join("\n"),
    );
  });
}
