/**
 * A wallet that does not use the QRSettle signing SDK: ethers v6 signs with the domain and types the relayer
 * publishes (`GET /v1/eip712`), reads the nonce through the TypeChain-typed ledger, and posts plain JSON.
 * docs/developer.md walks through it; test/docs/developer-guide.test.ts runs it against a live relayer.
 */
import { keccak256, parseUnits, toUtf8Bytes, type Provider, type Wallet } from "ethers";

import { getCurrency } from "../src/protocol/index.ts";
import { decodeQrSettleRequest } from "../src/qr/index.ts";
import { SettlementLedger__factory } from "../types/ethers-contracts/index.ts";

export interface PayWithEthersParameters {
  /** The scanned QR payload text. */
  payload: string;
  wallet: Wallet;
  provider: Provider;
  relayer: { url: string; apiKey: string };
}

export async function payWithEthers({ payload, wallet, provider, relayer }: PayWithEthersParameters) {
  const request = decodeQrSettleRequest(payload);
  if (request.amount === undefined)
    throw new Error("this example pays dynamic codes, which carry the amount");

  // The domain and types, as the payer's bank publishes them (no SDK needed to sign).
  const eip712 = (await (await fetch(`${relayer.url}/v1/eip712`)).json()) as {
    domain: { name: string; version: string; chainId: number; verifyingContract: string };
    types: Record<string, { name: string; type: string }[]>;
  };
  if (BigInt(eip712.domain.chainId) !== request.chainId) throw new Error("the code is for another chain");

  // The payer's lowest unused nonce in this currency: base + first clear bit of the 64-nonce window.
  const ledger = SettlementLedger__factory.connect(eip712.domain.verifyingContract, provider);
  const account = await ledger.getAccount(wallet.address, request.currency);
  let nonce = account.nonceBase;
  while ((account.nonceBitmap >> (nonce - account.nonceBase)) & 1n) nonce++;

  const block = await provider.getBlock("latest");
  const payment = {
    payer: wallet.address,
    payee: request.payee,
    payeeBank: request.payeeBank,
    currency: request.currency,
    // "128.50" CNY is 12850 fen: the currency's ISO 4217 exponent says where the point goes.
    amount: parseUnits(request.amount, getCurrency(request.currency)?.exponent ?? 2),
    qrHash: keccak256(toUtf8Bytes(payload)),
    nonce,
    deadline: BigInt((block?.timestamp ?? 0) + 600),
  };
  const signature = await wallet.signTypedData(
    eip712.domain,
    { Payment: eip712.types.Payment ?? [] },
    payment,
  );

  // Integers travel as decimal strings: JSON numbers cannot hold uint256.
  const body = JSON.stringify({ payment, signature }, (_key, value: unknown) =>
    typeof value === "bigint" ? value.toString() : value,
  );
  const headers = { "content-type": "application/json", authorization: `Bearer ${relayer.apiKey}` };
  const accepted = await fetch(`${relayer.url}/v1/payments`, { method: "POST", headers, body });
  const answer = (await accepted.json()) as { id: string; error?: { code: string; message: string } };
  if (answer.error !== undefined) throw new Error(`refused: ${answer.error.code}: ${answer.error.message}`);
  const { id } = answer;

  for (;;) {
    const status = (await (await fetch(`${relayer.url}/v1/payments/${id}`, { headers })).json()) as {
      status: string;
      txHash?: string;
    };
    if (["settled", "rejected", "failed"].includes(status.status)) return { id, ...status };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
