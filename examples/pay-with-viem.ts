/**
 * A wallet app paying a merchant's QR code with viem and the QRSettle SDK: scan → decode → sign → submit →
 * wait. docs/developer.md walks through it; test/docs/developer-guide.test.ts runs it against a live relayer.
 */
import { readFile } from "node:fs/promises";

import type { LocalAccount, PublicClient } from "viem";

import { nextNonce, RelayerClient, type RequestStatus } from "../src/client/index.ts";
import { ledgerTypes, paymentFromRequest } from "../src/protocol/index.ts";
import { decodeQrImage, decodeQrSettleRequest, type QrSettleRequest } from "../src/qr/index.ts";

export interface PayWithViemParameters {
  /** A photo or screenshot of the merchant's QR code (PNG or JPEG bytes' file). */
  image: string;
  /** The payer's key, held by the wallet. */
  account: LocalAccount;
  /** A client of the chain the QR code names, to read the payer's next nonce and the time. */
  publicClient: PublicClient;
  /** The payer's bank's relayer and the API key the bank gave this app. */
  relayer: { url: string; apiKey: string };
  /** What the payer typed, for a static code (one without an amount). */
  amount?: string;
  /** Shows the payer whom and what they are paying; resolves false if they decline. */
  approve: (request: QrSettleRequest) => Promise<boolean>;
}

export async function payWithViem(parameters: PayWithViemParameters): Promise<RequestStatus> {
  const { account, publicClient } = parameters;

  // 1. Scan and decode. Both throw a QrError naming the tag and the rule when the code is not valid.
  const payload = decodeQrImage(await readFile(parameters.image));
  const now = (await publicClient.getBlock()).timestamp;
  const request = decodeQrSettleRequest(payload, { now });
  if (!(await parameters.approve(request))) throw new Error("the payer declined");

  // 2. Build the EIP-712 payment: payee, bank, currency and amount come from the code; its qrHash binds the
  //    exact payload; the nonce is the payer's lowest unused one on chain; the deadline is ten minutes away.
  const nonce = await nextNonce(publicClient, request.ledger, account.address, request.currency);
  const { payment, domain } = paymentFromRequest({
    request,
    payload,
    payer: account.address,
    nonce,
    deadline: now + 600n,
    amount: parameters.amount,
  });

  // 3. Sign. The domain binds the chain id and the ledger contract, so the signature is good nowhere else.
  const signature = await account.signTypedData({
    domain,
    types: ledgerTypes,
    primaryType: "Payment",
    message: payment,
  });

  // 4. Submit to the payer's bank's relayer and wait for the ledger's verdict. Submitting the same payment
  //    again (say, after a lost connection) returns the same id: it never settles twice.
  const relayer = new RelayerClient(parameters.relayer);
  const { id } = await relayer.submitPayment({ payment, signature });
  return relayer.waitForFinal("payment", id);
}
