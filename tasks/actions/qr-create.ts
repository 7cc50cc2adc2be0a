import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Address } from "viem";

import { encodeQrSettleRequest, renderQrPng, renderQrTerminal } from "../../src/qr/index.ts";
import {
  addressArgument,
  bankArgument,
  currencyArgument,
  openContext,
  report,
  runTask,
  type CommonTaskArguments,
} from "../context.ts";

interface QrCreateArguments extends CommonTaskArguments {
  bank: string;
  payee: string;
  currency: string;
  amount: string;
  merchantName: string;
  merchantCity: string;
  country: string;
  mcc: string;
  reference: string;
  expiry: string;
  png: string;
}

/**
 * `qrsettle qr create`: a merchant's EMV QR code for this deployment — dynamic with `--amount`, a static
 * sticker without — printed as payload and terminal art, optionally saved as PNG.
 */
export default async function qrCreateAction(args: QrCreateArguments, hre: HardhatRuntimeEnvironment) {
  return runTask(async () => {
    const ctx = await openContext(hre, args.deployment);
    const currency = currencyArgument(args.currency);
    const payload = encodeQrSettleRequest({
      chainId: BigInt(ctx.deployment.chainId),
      ledger: ctx.deployment.ledger.toLowerCase() as Address,
      payeeBank: bankArgument(ctx, args.bank),
      payee: addressArgument("payee", args.payee).toLowerCase() as Address,
      currency: currency.numeric,
      ...(args.amount === "" ? {} : { amount: args.amount }),
      ...(args.reference === "" ? {} : { reference: args.reference }),
      ...(args.expiry === "" ? {} : { expiry: BigInt(args.expiry) }),
      merchantName: args.merchantName,
      merchantCity: args.merchantCity,
      countryCode: args.country,
      mcc: args.mcc,
      pointOfInitiation: args.amount === "" ? "static" : "dynamic",
    });
    if (args.png !== "") {
      await mkdir(path.dirname(path.resolve(args.png)), { recursive: true });
      await writeFile(args.png, renderQrPng(payload));
    }
    report(
      args.json,
      { payload, png: args.png || undefined },
      `${renderQrTerminal(payload)}\n${payload}${args.png === "" ? "" : `\nsaved ${args.png}`}`,
    );
  });
}
