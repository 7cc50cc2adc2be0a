import { readFile } from "node:fs/promises";
import path from "node:path";

import type { Hex } from "viem";

const projectRoot = path.resolve(import.meta.dirname, "../..");

/**
 * The creation bytecode of a QRSettle contract from Hardhat's build output (`npm run build`).
 *
 * @example
 * const bytecode = await contractBytecode("SettlementLedger");
 */
export async function contractBytecode(
  name: "BankRegistry" | "SettlementLedger" | "FxSettlement",
): Promise<Hex> {
  const file = path.join(projectRoot, "artifacts/contracts", `${name}.sol`, `${name}.json`);
  const artifact = JSON.parse(await readFile(file, "utf8")) as { bytecode: Hex };
  return artifact.bytecode;
}
