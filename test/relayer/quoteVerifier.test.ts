import { expect } from "chai";
import { keccak256, stringToHex, type Address, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { SAMPLE_CURRENCIES } from "../../src/deploy/sample.ts";
import { fxDomain, fxTypes, rateFromDecimal, type FxQuote } from "../../src/protocol/index.ts";
import { createQuoteVerifier } from "../../src/relayer/fx/verifyQuote.ts";

const { CNY, HKD } = SAMPLE_CURRENCIES;
const REGISTRY = "0x000000000000000000000000000000000000d00d" as Address;
const domain = fxDomain(31337, "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512");
const PROVIDER = 3;

describe("FX quote verifier", function () {
  const desk = privateKeyToAccount(generatePrivateKey());
  const quote: FxQuote = {
    provider: PROVIDER,
    fromCurrency: CNY,
    toCurrency: HKD,
    rate: rateFromDecimal("1.0850", CNY, HKD),
    maxToAmount: 5_000_00n,
    validFrom: 1_700_000_000n,
    expiry: 1_700_000_300n,
    quoteId: keccak256(stringToHex("quote")),
  };
  const sign = (value: FxQuote) =>
    desk.signTypedData({ domain, types: fxTypes, primaryType: "FxQuote", message: value });

  /** A registry where `desk` is a relayer of `bankOf()`, counting how often it is asked. */
  function setup() {
    const registry = { asks: 0, bank: PROVIDER, clock: 1_000_000 };
    const client = {
      readContract: ({ args }: { args: [Address] }) => {
        registry.asks++;
        return Promise.resolve(args[0] === desk.address ? registry.bank : 0);
      },
    } as unknown as PublicClient;
    const verify = createQuoteVerifier(client, REGISTRY, domain, 10_000, () => registry.clock);
    return { registry, verify };
  }

  it("asks the registry once for a quote many payments use, within the verdict's lifetime", async function () {
    const { registry, verify } = setup();
    const signature = await sign(quote);
    for (let i = 0; i < 5; i++) expect(await verify(quote, signature)).to.equal(true);
    expect(registry.asks).to.equal(1);
  });

  it("refuses a revoked provider key once the verdict expires", async function () {
    const { registry, verify } = setup();
    const signature = await sign(quote);
    expect(await verify(quote, signature)).to.equal(true);
    registry.bank = 0;
    registry.clock += 10_001;
    expect(await verify(quote, signature)).to.equal(false);
    expect(registry.asks).to.equal(2);
  });

  it("judges every quote and signature on its own: a changed quote or another signer is not the cached one", async function () {
    const { verify } = setup();
    const signature = await sign(quote);
    expect(await verify(quote, signature)).to.equal(true);
    expect(await verify({ ...quote, maxToAmount: quote.maxToAmount + 1n }, signature)).to.equal(false);
    const stranger = privateKeyToAccount(generatePrivateKey());
    const forged = await stranger.signTypedData({
      domain,
      types: fxTypes,
      primaryType: "FxQuote",
      message: quote,
    });
    expect(await verify(quote, forged)).to.equal(false);
  });
});
