/**
 * Operator commands as Hardhat tasks, under `npx hardhat qrsettle ...`. Every task takes `--network`
 * (Hardhat's global option), `--deployment <file>` (default deployments/<network>.json) and `--json` (one JSON
 * object on stdout, for scripts). A task finds the key it needs among the network's accounts by role; `--from`
 * picks one explicitly. Exit code 0 on success, 1 on refused input or a reverted transaction.
 */
import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { auditTask } from "./audit.ts";

const deploymentOption = {
  name: "deployment",
  description: "Deployment file (default: deployments/<network>.json)",
  defaultValue: "",
} as const;
const jsonFlag = { name: "json", description: "Print one JSON object instead of text" } as const;
const payloadOption = { name: "payload", description: "The QR payload text", defaultValue: "" } as const;
const imageOption = {
  name: "image",
  description: "A PNG or JPEG file with the QR code",
  defaultValue: "",
} as const;
const relayerOption = {
  name: "relayer",
  description: "The relayer's URL (your bank's); the API key comes from QRSETTLE_API_KEY",
  defaultValue: "",
} as const;
const fromOption = {
  name: "from",
  description: "Act with this account (default: the first account holding the needed role)",
  defaultValue: "",
} as const;

const networkFileTask = (name: "deploy" | "configure", description: string) =>
  task(["qrsettle", name], description)
    .addOption({
      name: "networkFile",
      description: "Network file describing currencies, banks, relayers, caps and initial funding",
      defaultValue: "networks/local.json",
    })
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(
      name === "deploy" ? () => import("./actions/deploy.ts") : () => import("./actions/configure.ts"),
    )
    .build();

const moneyTask = (kind: "reserves" | "deposits", description: string) =>
  task(["qrsettle", kind], description)
    .addPositionalArgument({
      name: "action",
      description: kind === "reserves" ? "issue | redeem" : "issue | redeem | open",
    })
    .addOption({ name: "bank", description: "Bank id or BIC", defaultValue: "" })
    .addOption({ name: "account", description: "Customer account (deposits only)", defaultValue: "" })
    .addOption({ name: "currency", description: "ISO 4217 code, e.g. CNY or 156", defaultValue: "" })
    .addOption({ name: "amount", description: 'Decimal amount, e.g. "1000.00"', defaultValue: "0" })
    .addOption(fromOption)
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(
      kind === "reserves" ? () => import("./actions/reserves.ts") : () => import("./actions/deposits.ts"),
    )
    .build();

const controlTask = (scope: "account" | "network", actions: string, description: string) =>
  task(["qrsettle", scope], description)
    .addPositionalArgument({ name: "action", description: actions })
    .addOption({ name: "account", description: "Account (account freeze, unfreeze)", defaultValue: "" })
    .addOption({
      name: "currency",
      description: "ISO 4217 code (account freeze, unfreeze)",
      defaultValue: "",
    })
    .addOption(fromOption)
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/controls.ts"))
    .build();

/** Every QRSettle task; hardhat.config.ts registers them. */
export const qrsettleTasks = [
  emptyTask(
    "qrsettle",
    "QRSettle operator commands: deploy, configure, banks, money, controls, QR codes",
  ).build(),
  networkFileTask(
    "deploy",
    "Deploy the registry and ledger with Ignition (unless the deployment file names live contracts), then configure",
  ),
  networkFileTask(
    "configure",
    "Bring a deployed network to a network file's state, changing only what differs",
  ),
  task(["qrsettle", "status"], "Show the network: pause, currencies, banks, reserves and deposits")
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/status.ts"))
    .build(),
  task(
    ["qrsettle", "bank"],
    "Register, suspend or resume a bank, set its caps (operator); add or remove a relayer (bank admin)",
  )
    .addPositionalArgument({
      name: "action",
      description: "register | suspend | resume | limits | add-relayer | remove-relayer",
    })
    .addOption({ name: "bank", description: "Bank id or BIC (all but register)", defaultValue: "" })
    .addOption({ name: "bic", description: "BIC of the bank to register", defaultValue: "" })
    .addOption({ name: "name", description: "Name of the bank to register", defaultValue: "" })
    .addOption({ name: "admin", description: "Admin address of the bank to register", defaultValue: "" })
    .addOption({
      name: "relayer",
      description: "Relayer address (add-relayer, remove-relayer)",
      defaultValue: "",
    })
    .addOption({ name: "currency", description: "ISO 4217 code (limits)", defaultValue: "" })
    .addOption({ name: "debitCap", description: "Intraday debit cap, decimal (limits)", defaultValue: "0" })
    .addOption({
      name: "maxPayment",
      description: "Largest single payment, decimal; 0 for none (limits)",
      defaultValue: "0",
    })
    .addOption(fromOption)
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/bank.ts"))
    .build(),
  moneyTask("reserves", "Issue or redeem a bank's reserves (settlement agent)"),
  moneyTask("deposits", "Issue, redeem or open a customer's deposit account (the customer's bank admin)"),
  controlTask(
    "account",
    "freeze | unfreeze",
    "Freeze or unfreeze an account in a currency (its bank's admin or the freezer)",
  ),
  controlTask(
    "network",
    "pause | unpause",
    "Pause or resume every payment, refund, issuance and redemption (pauser)",
  ),
  emptyTask(["qrsettle", "qr"], "Create and decode EMV merchant-presented QR codes").build(),
  task(
    ["qrsettle", "qr", "create"],
    "A merchant's QR code for this deployment: dynamic with --amount, static without",
  )
    .addOption({ name: "bank", description: "The merchant's bank, id or BIC", defaultValue: "" })
    .addOption({ name: "payee", description: "The merchant's account", defaultValue: "" })
    .addOption({ name: "currency", description: "ISO 4217 code", defaultValue: "" })
    .addOption({ name: "amount", description: "Decimal amount; omit for a static code", defaultValue: "" })
    .addOption({
      name: "merchantName",
      description: "Merchant name, printable ASCII, at most 25",
      defaultValue: "",
    })
    .addOption({ name: "merchantCity", description: "Merchant city, at most 15", defaultValue: "" })
    .addOption({ name: "country", description: "ISO 3166-1 alpha-2 country", defaultValue: "CN" })
    .addOption({ name: "mcc", description: "ISO 18245 merchant category code", defaultValue: "5999" })
    .addOption({ name: "reference", description: "Reference label (62.05)", defaultValue: "" })
    .addOption({
      name: "expiry",
      description: "Last second the code may be paid, unix time",
      defaultValue: "",
    })
    .addOption({ name: "png", description: "Also save the code as this PNG file", defaultValue: "" })
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/qr-create.ts"))
    .build(),
  task(["qrsettle", "qr", "decode"], "Decode a QR payload or image and check every EMV rule")
    .addOption({ name: "payload", description: "The payload text", defaultValue: "" })
    .addOption({ name: "image", description: "A PNG or JPEG file with the QR code", defaultValue: "" })
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/qr-decode.ts"))
    .build(),
  task(
    ["qrsettle", "pay"],
    "Pay a QR code as a payer: decode it, sign the payment, submit it to your bank's relayer, wait until final",
  )
    .addOption(payloadOption)
    .addOption(imageOption)
    .addOption({ name: "amount", description: "Decimal amount, for a static code only", defaultValue: "" })
    .addOption({
      name: "from",
      description: "The payer: one of the network's accounts (e.g. from the keystore)",
      defaultValue: "",
    })
    .addOption(relayerOption)
    .addOption({
      name: "ttl",
      description: "Seconds the payment stays valid (capped by a dynamic code's expiry)",
      type: ArgumentType.INT,
      defaultValue: 600,
    })
    .addOption({
      name: "timeout",
      description: "Seconds to wait for a final status",
      type: ArgumentType.INT,
      defaultValue: 120,
    })
    .addOption(deploymentOption)
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/pay.ts"))
    .build(),
  task(["qrsettle", "payment"], "Show a payment's (or with --refund a refund's) status at a relayer")
    .addOption({ name: "id", description: "The payment id (its EIP-712 digest)", defaultValue: "" })
    .addOption(relayerOption)
    .addFlag({ name: "refund", description: "The id is a refund's" })
    .addFlag(jsonFlag)
    .setAction(() => import("./actions/payment-show.ts"))
    .build(),
  emptyTask(["qrsettle", "relayer"], "Run a bank's relayer").build(),
  task(
    ["qrsettle", "relayer", "start"],
    "Run a bank's relayer until SIGINT/SIGTERM, then drain (chain from the config file, not --network)",
  )
    .addOption({
      name: "relayerConfig",
      description:
        "Relayer configuration file; QRSETTLE_RELAYER_* variables override it (see docs/relayer.md)",
      defaultValue: "relayer.json",
    })
    .setAction(() => import("./actions/relayer-start.ts"))
    .build(),
  auditTask,
];
