import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { deployOrConfigure, type DeployArguments } from "./deploy.ts";

/** `qrsettle configure`: brings an existing deployment to the network file's state; never deploys. */
export default async function configureAction(args: DeployArguments, hre: HardhatRuntimeEnvironment) {
  return deployOrConfigure(args, hre, true);
}
