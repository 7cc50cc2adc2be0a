import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { payWithEthers } from "../../examples/pay-with-ethers.ts";
import { payWithViem } from "../../examples/pay-with-viem.ts";
import { encodeQrSettleRequest, renderQrPng } from "../../src/qr/index.ts";
import type { Relayer } from "../../src/relayer/relayer.ts";
import {
  CNY,
  customer,
  deployTestNetwork,
  ledgerAs,
  relayerKeys,
  type TestNetwork,
} from "../relayer/helpers/network.ts";
import { API_KEY, edrTransport, startTestRelayer, testConfig } from "../relayer/helpers/relayer.ts";

describe("docs/developer.md: the wallet examples pay QR codes through a live relayer", function () {
  this.timeout(120_000);
  let net: TestNetwork;
  let relayer: Relayer;
  let dir: string;
  let payerKey: Hex;

  /** A dynamic code of the test network's merchant (bank B) for `amount` CNY. */
  const dynamicCode = (amount: string, reference: string) =>
    encodeQrSettleRequest({
      chainId: BigInt(net.deployment.chainId),
      ledger: net.deployment.ledger.toLowerCase() as Address,
      payeeBank: net.bankB,
      payee: net.merchant.toLowerCase() as Address,
      currency: CNY,
      amount,
      reference,
      merchantName: "NOODLE BAR",
      merchantCity: "BEIJING",
      countryCode: "CN",
      mcc: "5812",
      pointOfInitiation: "dynamic",
    });
  const merchantBalance = () => ledgerAs(net, net.adminB).read.balanceOf([net.merchant, CNY]);

  before(async function () {
    net = await deployTestNetwork();
    dir = await mkdtemp(path.join(tmpdir(), "qrsettle-developer-guide-"));
    const keys = await relayerKeys(net, 1);
    relayer = await startTestRelayer(testConfig(net, dir, "http://unused.invalid"), keys, {
      transport: edrTransport(net),
    });
    payerKey = await customer(net, 1_000_00n);
  });

  after(async function () {
    await relayer.stop();
    await net.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("pays a QR image with viem and the SDK (pay-with-viem.ts)", async function () {
    const image = path.join(dir, "code.png");
    await writeFile(image, renderQrPng(dynamicCode("128.50", "TABLE-12")));
    const before = await merchantBalance();
    const final = await payWithViem({
      image,
      account: privateKeyToAccount(payerKey),
      publicClient: net.publicClient,
      relayer: { url: relayer.url, apiKey: API_KEY },
      approve: (request) =>
        Promise.resolve(request.merchantName === "NOODLE BAR" && request.amount === "128.50"),
    });
    expect(final.status).to.equal("settled");
    expect(final.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect((await merchantBalance()) - before).to.equal(128_50n);
  });

  it("pays a QR payload with ethers, TypeChain and plain HTTP (pay-with-ethers.ts)", async function () {
    const before = await merchantBalance();
    const final = await payWithEthers({
      payload: dynamicCode("9.99", "TABLE-7"),
      wallet: new Wallet(payerKey),
      provider: net.connection.ethers.provider,
      relayer: { url: relayer.url, apiKey: API_KEY },
    });
    expect(final.status).to.equal("settled");
    expect((await merchantBalance()) - before).to.equal(9_99n);
  });

  it("shows both examples in the guide exactly as they are in examples/", async function () {
    const guide = await readFile("docs/developer.md", "utf8");
    for (const file of ["examples/pay-with-viem.ts", "examples/pay-with-ethers.ts"]) {
      const source = await readFile(file, "utf8");
      expect(guide.includes(source), `${file} is not quoted verbatim in docs/developer.md`).to.equal(true);
    }
  });
});
