import { readFile } from "node:fs/promises";

import { decodeQrImage, inspectEmvQr } from "../../src/qr/index.ts";
import { numberedDetails, QRSettleError } from "../../src/protocol/errors.ts";
import { report, runTask } from "../context.ts";

interface QrDecodeArguments {
  payload: string;
  image: string;
  json: boolean;
}

/** `qrsettle qr decode`: what a payload or a QR image says, with every rule it breaks. */
export default async function qrDecodeAction(args: QrDecodeArguments) {
  return runTask(async () => {
    if ((args.payload === "") === (args.image === "")) {
      throw new QRSettleError("TASK_BAD_ARGUMENT", "Give exactly one of --payload and --image.");
    }
    const payload = args.payload || decodeQrImage(await readFile(args.image));
    const { valid, crcValid, errors, warnings, flat, qrsettle } = inspectEmvQr(payload);
    const issue = (i: { code: string; message: string }) => `${i.code}: ${i.message}`;
    report(
      args.json,
      { payload, valid, crcValid, errors, warnings, flat, qrsettle },
      [
        ...Object.entries(flat).map(([id, value]) => `${id.padEnd(6)} ${value}`),
        ...errors.map((e) => `error   ${issue(e)}`),
        ...warnings.map((w) => `warning ${issue(w)}`),
        valid ? "valid" : "INVALID",
      ].join("\n"),
    );
    if (!valid) {
      throw new QRSettleError("QR_INVALID", "The payload is not a valid EMV QR code.", {
        details: numberedDetails("Error", errors.map(issue)),
      });
    }
  });
}
