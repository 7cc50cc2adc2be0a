import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { moneyAction, type MoneyArguments } from "./money.ts";

/** `qrsettle deposits <action>`; see `moneyAction`. */
export default async function depositsAction(args: MoneyArguments, hre: HardhatRuntimeEnvironment) {
  return moneyAction("deposits", args, hre);
}
