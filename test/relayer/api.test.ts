import { expect } from "chai";
import { parseSignature, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { toWirePayment, type WireSignedPayment } from "../../src/protocol/index.ts";
import { API_ERRORS, type ApiErrorCode } from "../../src/relayer/api/errorCodes.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import { call, postPayment, type Answer } from "./helpers/http.ts";
import {
  confirm,
  customer,
  funder,
  deployTestNetwork,
  idOf,
  ledgerAs,
  payment,
  relayerKeys,
  signPayment,
  CNY,
  type TestNetwork,
} from "./helpers/network.ts";
import { API_KEY, edrTransport, startTestRelayer, tempDir, testConfig } from "./helpers/relayer.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * What every client mistake gets: a stable code with its HTTP status, and nothing stored. The relayer runs
 * against Hardhat's in-process network with batching held back (a long window), so what the store holds can
 * be counted between requests.
 */
describe("relayer HTTP API: bad input", function () {
  let net: TestNetwork;
  let relayer: Relayer;
  let cleanup: () => Promise<void>;
  let payerKey: Hex;
  let nonce = 0n;

  before(async function () {
    net = await deployTestNetwork();
    const keys = await relayerKeys(net, 1);
    const dir = await tempDir();
    cleanup = dir.cleanup;
    const config = testConfig(net, dir.dir, "http://unused.invalid", {
      batch: { windowMs: 600_000, maxItems: 1_000 },
      api: {
        maxBodyBytes: 2_048,
        clients: [
          {
            id: "wallet-app",
            keySha256: (await import("../../src/relayer/api/auth.ts")).hashApiKey("test-key-0123456789"),
            ratePerSecond: 1_000,
            burst: 1_000,
          },
          {
            id: "slow-app",
            keySha256: (await import("../../src/relayer/api/auth.ts")).hashApiKey("slow-key"),
            ratePerSecond: 0.001,
            burst: 2,
          },
        ],
      },
    });
    relayer = await startTestRelayer(config, keys, { transport: edrTransport(net) });
    payerKey = await customer(net, 1_000_00n);
  });

  after(async function () {
    await relayer.stop();
    await net.close();
    await cleanup();
  });

  const stored = async () => {
    const counts = await relayer.store.countByStatus();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  /** Sends `send()` and checks it answers `code` with its status and stores nothing. */
  async function refused(code: ApiErrorCode, send: () => Promise<Answer>): Promise<Answer> {
    const before = await stored();
    const answer = await send();
    expect(answer.status, JSON.stringify(answer.body)).to.equal(API_ERRORS[code].status);
    expect(answer.body.error).to.deep.include({ code, number: API_ERRORS[code].number });
    expect((answer.body.error as { message: string }).message)
      .to.be.a("string")
      .and.not.equal("");
    expect(await stored()).to.equal(before, "nothing stored");
    return answer;
  }

  const fresh = (amount = 1_00n, key = payerKey) => payment(net, key, amount, nonce++);

  it("accepts a good payment with 202 and its id, and answers a repeat with 200 and the same id", async function () {
    const signed = await signPayment(net, payerKey, fresh());
    const first = await postPayment(relayer.url, signed);
    expect(first.status).to.equal(202);
    expect(first.body).to.deep.equal({ id: idOf(net, signed), status: "accepted" });
    const again = await postPayment(relayer.url, signed);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    const read = await call(relayer.url, "GET", `/v1/payments/${idOf(net, signed)}`);
    expect(read).to.deep.equal({ status: 200, body: first.body });
  });

  it("accepts the 64-byte EIP-2098 form of a signature", async function () {
    const signed = await signPayment(net, payerKey, fresh());
    const { r, s, yParity } = parseSignature(signed.signature as Hex);
    const compact = `${r}${((BigInt(yParity) << 255n) | BigInt(s)).toString(16).padStart(64, "0")}` as Hex;
    expect((await postPayment(relayer.url, { ...signed, signature: compact })).status).to.equal(202);
  });

  it("MALFORMED_JSON", async function () {
    await refused("MALFORMED_JSON", () =>
      call(relayer.url, "POST", "/v1/payments", undefined, { raw: '{"payment": {' }),
    );
  });

  it("BODY_TOO_LARGE", async function () {
    await refused("BODY_TOO_LARGE", () =>
      call(relayer.url, "POST", "/v1/payments", undefined, { raw: `{"x":"${"a".repeat(5_000)}"}` }),
    );
  });

  it("UNSUPPORTED_MEDIA_TYPE", async function () {
    await refused("UNSUPPORTED_MEDIA_TYPE", () =>
      call(relayer.url, "POST", "/v1/payments", undefined, {
        raw: "a=b",
        contentType: "application/x-www-form-urlencoded",
      }),
    );
  });

  it("INVALID_REQUEST for wrong types, missing and extra fields, naming the field", async function () {
    const signed = await signPayment(net, payerKey, fresh());
    const cases: [unknown, string][] = [
      [{ ...signed, payment: { ...signed.payment, amount: 100 } }, "payment.amount"],
      [{ ...signed, payment: { ...signed.payment, amount: "-1" } }, "payment.amount"],
      [{ ...signed, payment: { ...signed.payment, payer: "0x1234" } }, "payment.payer"],
      [{ ...signed, payment: { ...signed.payment, payeeBank: 70_000 } }, "payment.payeeBank"],
      [{ payment: signed.payment }, "signature"],
      [{ ...signed, extra: true }, "extra"],
      [[1, 2], ""],
    ];
    for (const [body, field] of cases) {
      const answer = await refused("INVALID_REQUEST", () => call(relayer.url, "POST", "/v1/payments", body));
      expect((answer.body.error as { message: string }).message).to.include(field);
    }
  });

  it("UNAUTHORIZED without a key or with an unknown one", async function () {
    const signed = await signPayment(net, payerKey, fresh());
    await refused("UNAUTHORIZED", () => call(relayer.url, "POST", "/v1/payments", signed, { key: null }));
    await refused("UNAUTHORIZED", () => call(relayer.url, "POST", "/v1/payments", signed, { key: "guess" }));
  });

  it("RATE_LIMITED once a key's burst is spent, with Retry-After", async function () {
    await call(relayer.url, "GET", "/v1/payments", undefined, { key: "slow-key" });
    await call(relayer.url, "GET", "/v1/payments", undefined, { key: "slow-key" });
    await refused("RATE_LIMITED", () =>
      call(relayer.url, "GET", "/v1/payments", undefined, { key: "slow-key" }),
    );
  });

  it("SIGNATURE_INVALID for another signer's signature or a tampered payment", async function () {
    const stranger = generatePrivateKey();
    const mine = fresh();
    await refused("SIGNATURE_INVALID", async () =>
      postPayment(relayer.url, { ...(await signPayment(net, stranger, mine)), payment: toWirePayment(mine) }),
    );
    const signed = await signPayment(net, payerKey, fresh());
    await refused("SIGNATURE_INVALID", () =>
      postPayment(relayer.url, { ...signed, payment: { ...signed.payment, amount: "999" } }),
    );
  });

  it("SIGNATURE_MALLEABLE for the high-s twin of a valid signature", async function () {
    const signed = await signPayment(net, payerKey, fresh());
    const { r, s, yParity } = parseSignature(signed.signature as Hex);
    const twin =
      `${r}${(SECP256K1_N - BigInt(s)).toString(16).padStart(64, "0")}${(28 - yParity).toString(16)}` as Hex;
    await refused("SIGNATURE_MALLEABLE", () => postPayment(relayer.url, { ...signed, signature: twin }));
  });

  it("SIGNATURE_MALFORMED for a wrong length or recovery byte", async function () {
    const signed = await signPayment(net, payerKey, fresh());
    await refused("SIGNATURE_MALFORMED", () =>
      postPayment(relayer.url, { ...signed, signature: `${signed.signature}00` as Hex }),
    );
    await refused("SIGNATURE_MALFORMED", () =>
      postPayment(relayer.url, { ...signed, signature: `${signed.signature.slice(0, 130)}05` as Hex }),
    );
  });

  it("PAYMENT_EXPIRED for a deadline passed or too close", async function () {
    const expired = { ...fresh(), deadline: BigInt(Math.floor(Date.now() / 1000) - 10) };
    await refused("PAYMENT_EXPIRED", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, expired)),
    );
    const tooClose = { ...fresh(), deadline: BigInt(Math.floor(Date.now() / 1000) + 2) };
    await refused("PAYMENT_EXPIRED", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, tooClose)),
    );
  });

  it("UNKNOWN_BANK for a payee bank that is not registered", async function () {
    await refused("UNKNOWN_BANK", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, { ...fresh(), payeeBank: 99 })),
    );
  });

  it("CURRENCY_NOT_SUPPORTED for a currency the ledger does not list", async function () {
    await refused("CURRENCY_NOT_SUPPORTED", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, { ...fresh(), currency: 840 })),
    );
  });

  it("PAYER_NOT_CUSTOMER for a signer without an account at this bank", async function () {
    const outsider = generatePrivateKey();
    await refused("PAYER_NOT_CUSTOMER", async () =>
      postPayment(relayer.url, await signPayment(net, outsider, payment(net, outsider, 1n, 0n))),
    );
  });

  it("PAYEE_NOT_CUSTOMER for a payee without an account at the named bank", async function () {
    const nobody = privateKeyToAccount(generatePrivateKey()).address;
    await refused("PAYEE_NOT_CUSTOMER", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, { ...fresh(), payee: nobody })),
    );
  });

  it("AMOUNT_INVALID for zero", async function () {
    await refused("AMOUNT_INVALID", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, { ...fresh(), amount: 0n })),
    );
  });

  it("NONCE_OUT_OF_WINDOW for a nonce 64 or more above the base", async function () {
    await refused("NONCE_OUT_OF_WINDOW", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, { ...fresh(), nonce: 64n })),
    );
  });

  it("NONCE_IN_QUEUE for a different payment reusing a queued nonce (a replay with other terms)", async function () {
    const first = fresh();
    expect((await postPayment(relayer.url, await signPayment(net, payerKey, first))).status).to.equal(202);
    await refused("NONCE_IN_QUEUE", async () =>
      postPayment(relayer.url, await signPayment(net, payerKey, { ...first, amount: first.amount + 1n })),
    );
  });

  it("NONCE_USED for a nonce the payer cancelled on chain", async function () {
    const key = await customer(net, 100n);
    const account = privateKeyToAccount(key);
    await confirm(net, funder(net).sendTransaction({ to: account.address, value: 10n ** 17n }));
    const { createWalletClient, custom } = await import("viem");
    const wallet = createWalletClient({
      account,
      chain: funder(net).chain,
      transport: custom(net.connection.provider),
    });
    await confirm(net, ledgerAs(net, wallet as never).write.cancelNonce([CNY, 0n]));
    await refused("NONCE_USED", async () =>
      postPayment(relayer.url, await signPayment(net, key, payment(net, key, 1n, 0n))),
    );
  });

  it("INSUFFICIENT_BALANCE counting what is already queued", async function () {
    const key = await customer(net, 10_00n);
    expect(
      (await postPayment(relayer.url, await signPayment(net, key, payment(net, key, 6_00n, 0n)))).status,
    ).to.equal(202);
    await refused("INSUFFICIENT_BALANCE", async () =>
      postPayment(relayer.url, await signPayment(net, key, payment(net, key, 5_00n, 1n))),
    );
    expect(
      (await postPayment(relayer.url, await signPayment(net, key, payment(net, key, 4_00n, 2n)))).status,
    ).to.equal(202);
  });

  it("DAILY_LIMIT_EXCEEDED against the customer's daily limit", async function () {
    const key = await customer(net, 10_00n);
    await confirm(
      net,
      ledgerAs(net, net.adminA).write.setCustomerLimit([privateKeyToAccount(key).address, CNY, 3_00n]),
    );
    await refused("DAILY_LIMIT_EXCEEDED", async () =>
      postPayment(relayer.url, await signPayment(net, key, payment(net, key, 4_00n, 0n))),
    );
  });

  it("NOT_FOUND and METHOD_NOT_ALLOWED", async function () {
    await refused("NOT_FOUND", () => call(relayer.url, "GET", `/v1/payments/0x${"ab".repeat(32)}`));
    await refused("NOT_FOUND", () => call(relayer.url, "GET", "/v1/nothing"));
    await refused("METHOD_NOT_ALLOWED", () => call(relayer.url, "POST", "/healthz", {}));
    await refused("INVALID_QUERY", () => call(relayer.url, "GET", "/v1/payments?limit=0"));
  });

  it("FX_NOT_ENABLED for quotes and cross-currency payments without an FX contract", async function () {
    await refused("FX_NOT_ENABLED", () => call(relayer.url, "GET", "/v1/quotes?from=CNY&to=HKD&amount=100"));
    await refused("FX_NOT_ENABLED", () =>
      call(relayer.url, "GET", "/v1/fx/quote?from=156&to=344&amount=100"),
    );
    const quote = {
      provider: 3,
      fromCurrency: 156,
      toCurrency: 344,
      rate: "1085000000000000000",
      maxToAmount: "100000",
      validFrom: "0",
      expiry: "99999999999",
      quoteId: `0x${"01".repeat(32)}`,
    };
    const payment = {
      payer: net.merchant,
      payee: net.merchant,
      payeeBank: net.bankB,
      payCurrency: 156,
      payAmount: "100",
      receiveCurrency: 344,
      receiveAmount: "108",
      quoteHash: `0x${"02".repeat(32)}`,
      qrHash: `0x${"03".repeat(32)}`,
      nonce: "0",
      deadline: "99999999999",
    };
    const signature = `0x${"04".repeat(65)}`;
    await refused("FX_NOT_ENABLED", () =>
      call(relayer.url, "POST", "/v1/fx-payments", { quote, quoteSignature: signature, payment, signature }),
    );
  });

  it("serves the EIP-712 domain and types, health, readiness, metrics and the OpenAPI document", async function () {
    const eip712 = await call(relayer.url, "GET", "/v1/eip712", undefined, { key: null });
    expect(eip712.status).to.equal(200);
    expect(eip712.body.domain).to.deep.equal({
      name: "QRSettle",
      version: "1",
      chainId: net.deployment.chainId,
      verifyingContract: net.deployment.ledger,
    });
    expect(Object.keys(eip712.body.types as object)).to.deep.equal(["EIP712Domain", "Payment", "Refund"]);
    expect((await call(relayer.url, "GET", "/healthz", undefined, { key: null })).body).to.deep.equal({
      status: "ok",
    });
    const ready = await call(relayer.url, "GET", "/readyz", undefined, { key: null });
    expect(ready).to.deep.include({ status: 200 });
    const metrics = await call(relayer.url, "GET", "/metrics", undefined, { key: null });
    expect(String(metrics.body.text)).to.match(
      /qrsettle_relayer_intake_total\{kind="payment",result="INSUFFICIENT_BALANCE"\} 1/,
    );
    const openapi = await call(relayer.url, "GET", "/openapi.json", undefined, { key: null });
    expect(Object.keys(openapi.body.paths as object)).to.include.members([
      "/v1/payments",
      "/v1/payments/{id}",
      "/v1/refunds",
      "/v1/eip712",
    ]);
  });

  it("never lets a refused payment in, even when it is sent concurrently with a good one for the same nonce", async function () {
    const key = await customer(net, 1_000n);
    const good: WireSignedPayment = await signPayment(net, key, payment(net, key, 10n, 0n));
    const rival: WireSignedPayment = await signPayment(net, key, payment(net, key, 11n, 0n));
    const answers = await Promise.all([postPayment(relayer.url, good), postPayment(relayer.url, rival)]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([202, 409]);
  });
});

/** Backpressure: beyond `api.maxQueued` waiting requests, a submission waits for room and is then refused. */
describe("relayer HTTP API: a full queue", function () {
  let net: TestNetwork;
  let relayer: Relayer;
  let cleanup: () => Promise<void>;

  before(async function () {
    net = await deployTestNetwork();
    const keys = await relayerKeys(net, 1);
    const dir = await tempDir();
    cleanup = dir.cleanup;
    // Nothing leaves the queue (a long window), so it stays full.
    const config = testConfig(net, dir.dir, "http://unused.invalid", {
      batch: { windowMs: 600_000, maxItems: 1_000 },
      api: { maxQueued: 2, queueWaitMs: 200 },
    });
    relayer = await startTestRelayer(config, keys, { transport: edrTransport(net) });
  });

  after(async function () {
    await relayer.stop();
    await net.close();
    await cleanup();
  });

  it("QUEUE_FULL (503, Retry-After) after queueWaitMs, with nothing stored; the queued ones stay", async function () {
    const payerKey = await customer(net, 1_000_00n);
    for (const nonce of [0n, 1n]) {
      const answer = await postPayment(
        relayer.url,
        await signPayment(net, payerKey, payment(net, payerKey, 1_00n, nonce)),
      );
      expect(answer.status).to.equal(202);
    }
    const started = Date.now();
    const response = await fetch(`${relayer.url}/v1/payments`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(await signPayment(net, payerKey, payment(net, payerKey, 1_00n, 2n))),
    });
    expect(response.status).to.equal(503);
    expect(response.headers.get("retry-after")).to.equal("1");
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal("QUEUE_FULL");
    expect(Date.now() - started).to.be.at.least(190);
    expect(await relayer.store.countByStatus()).to.include({ accepted: 2 });
  });
});
