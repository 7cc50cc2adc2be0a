import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { moneyAction, type MoneyArguments } from "./money.ts";

/** `qrsettle reserves <action>`; see `moneyAction`. */
export default async function reservesAction(args: MoneyArguments, hre: HardhatRuntimeEnvironment) {
  return moneyAction("reserves", args, hre);
}
