import { readFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { nextNonce } from "../../src/client/nonces.ts";
import { formatAmount } from "../../src/protocol/amounts.ts";
import { getCurrency } from "../../src/protocol/currencies.ts";
import { QRSettleError } from "../../src/protocol/errors.ts";
import { ledgerTypes } from "../../src/protocol/eip712.ts";
import { paymentFromRequest } from "../../src/protocol/paymentFromRequest.ts";
import { toWirePayment } from "../../src/protocol/wire.ts";
import { decodeQrImage, decodeQrSettleRequest } from "../../src/qr/index.ts";
import {
  addressArgument,
  openContext,
  relayerArgument,
  report,
  runTask,
  type CommonTaskArguments,
} from "../context.ts";

interface PayArguments extends CommonTaskArguments {
  payload: string;
  image: string;
  amount: string;
  from: string;
  relayer: string;
  ttl: number;
  timeout: number;
}

/**
 * `qrsettle pay`: what a payer's wallet does — decode the merchant's QR code, sign the EIP-712 payment with the
 * payer's key (one of the network's accounts), submit it to the payer's bank's relayer and wait until final.
 */
export default async function payAction(args: PayArguments, hre: HardhatRuntimeEnvironment) {
  return runTask(async () => {
    if ((args.payload === "") === (args.image === "")) {
      throw new QRSettleError("TASK_BAD_ARGUMENT", "Give exactly one of --payload and --image.");
    }
    const ctx = await openContext(hre, args.deployment);
    const relayer = relayerArgument(args.relayer);
    const payer = ctx.signerFor(addressArgument("from", args.from));
    if (payer === undefined) {
      throw new QRSettleError("TASK_NO_SIGNER", "The payer's key is not among this network's accounts.", {
        details: { "--from": args.from, network: ctx.networkName },
      });
    }
    const payload = args.payload || decodeQrImage(await readFile(args.image));
    const now = (await ctx.publicClient.getBlock()).timestamp;
    const request = decodeQrSettleRequest(payload, { now });
    if (
      request.chainId !== BigInt(ctx.deployment.chainId) ||
      request.ledger !== ctx.deployment.ledger.toLowerCase()
    ) {
      throw new QRSettleError("TASK_QR_OTHER_NETWORK", "The QR code is for another chain or ledger.", {
        details: { "QR chain": request.chainId, "QR ledger": request.ledger, ledger: ctx.deployment.ledger },
      });
    }
    const nonce = await nextNonce(
      ctx.publicClient,
      ctx.deployment.ledger,
      payer.account.address,
      request.currency,
    );
    const { payment, domain } = paymentFromRequest({
      request,
      payload,
      payer: payer.account.address,
      nonce,
      deadline: now + BigInt(args.ttl),
      ...(args.amount === "" ? {} : { amount: args.amount }),
    });
    const signature = await payer.signTypedData({
      domain,
      types: ledgerTypes,
      primaryType: "Payment",
      message: payment,
    });
    const accepted = await relayer.submitPayment({ payment, signature });
    if (!args.json) console.error(`accepted ${accepted.id}; waiting until final…`);
    const final = await relayer.waitForFinal("payment", accepted.id, { timeoutMs: args.timeout * 1000 });
    const exponent = getCurrency(String(payment.currency))?.exponent ?? 2;
    report(
      args.json,
      { ...final, payment: toWirePayment(payment), signature },
      [
        `payment  ${final.id}`,
        `to       ${request.merchantName} (${payment.payee}, bank ${payment.payeeBank})`,
        `amount   ${formatAmount(payment.amount, exponent)} (currency ${payment.currency}), nonce ${nonce}`,
        `status   ${final.status}${final.reason === undefined ? "" : ` (${final.reason})`}`,
        ...(final.txHash === undefined
          ? []
          : [`tx       ${final.txHash} in block ${final.blockNumber ?? "?"}`]),
      ].join("\n"),
    );
    if (final.status !== "settled") {
      throw new QRSettleError("PAYMENT_NOT_SETTLED", `The payment ended ${final.status}.`, {
        details: { id: final.id, reason: final.reason },
      });
    }
  });
}
