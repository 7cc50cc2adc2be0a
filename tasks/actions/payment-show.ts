import { QRSettleError } from "../../src/protocol/errors.ts";
import { relayerArgument, report, runTask } from "../context.ts";

interface PaymentShowArguments {
  id: string;
  relayer: string;
  refund: boolean;
  json: boolean;
}

/** `qrsettle payment`: a payment's (or refund's) status as the relayer that took it reports it. */
export default async function paymentShowAction(args: PaymentShowArguments) {
  return runTask(async () => {
    if (!/^0x[0-9a-fA-F]{64}$/.test(args.id)) {
      throw new QRSettleError("TASK_BAD_ARGUMENT", "--id must be a payment id: 0x and 64 hex digits.", {
        details: { "--id": args.id },
      });
    }
    const status = await relayerArgument(args.relayer).status(
      args.refund ? "refund" : "payment",
      args.id.toLowerCase() as `0x${string}`,
    );
    report(
      args.json,
      status,
      Object.entries(status)
        .map(([key, value]) => `${key.padEnd(14)} ${String(value)}`)
        .join("\n"),
    );
  });
}
