import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

/**
 * `npx hardhat qrsettle audit [--deployment <file>] [--out <dir>] [--confirmations N] [--db <file>] [--rpc <url>]`:
 * the auditor's `qrsettle audit` as a Hardhat task in the `qrsettle` namespace. Without `--rpc` it audits the
 * network selected with `--network` (e.g. `localhost`), and the deployment file defaults to
 * `deployments/<network>.json`, as for every other `qrsettle` task. Exits non-zero when any check fails.
 *
 * @example
 * // tasks/index.ts: listed after the `qrsettle` namespace's emptyTask
 * import { auditTask } from "./audit.ts";
 * export const qrsettleTasks = [emptyTask("qrsettle", "…").build(), auditTask, …];
 */
export const auditTask = task(
  ["qrsettle", "audit"],
  "Rebuild the ledger from the chain and check every balance, batch, FX leg and signature",
)
  .addOption({
    name: "deployment",
    description: "Deployment file as `qrsettle deploy` writes it (default: deployments/<network>.json)",
    defaultValue: "",
  })
  .addOption({
    name: "out",
    description: "Directory for audit.json, the CSV tables and audit.html",
    defaultValue: "",
  })
  .addOption({
    name: "confirmations",
    description: "Leave the newest N blocks unread until they are final",
    type: ArgumentType.INT,
    defaultValue: 12,
  })
  .addOption({
    name: "db",
    description: "The SQLite store (default: qrsettle-audit-<chainId>-<ledger>.sqlite)",
    defaultValue: "",
  })
  .addOption({ name: "rpc", description: "A JSON-RPC URL instead of the selected network", defaultValue: "" })
  .setAction(() => import("./audit-action.ts"))
  .build();

export default auditTask;
