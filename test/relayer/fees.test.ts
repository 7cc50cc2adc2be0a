import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom, type PublicClient } from "viem";

import {
  bumpFees,
  feesFromStored,
  marketFees,
  storedFees,
  type FeeFields,
} from "../../src/relayer/chain/fees.ts";
import { relayerConfigSchema } from "../../src/relayer/config.ts";
import { createFeeSource, type SeenHead } from "../../src/relayer/engine/feeSource.ts";

const policy = (overrides: Record<string, unknown> = {}) =>
  relayerConfigSchema.shape.fees.parse({ ...overrides });

const eip1559 = (maxFeePerGas: bigint, maxPriorityFeePerGas: bigint): FeeFields => ({
  type: "eip1559",
  maxFeePerGas,
  maxPriorityFeePerGas,
});

describe("fees", function () {
  describe("bumpFees", function () {
    it("raises both EIP-1559 fees by bumpPercent, rounding up", function () {
      const next = bumpFees(eip1559(100n, 10n), eip1559(50n, 5n), policy({ bumpPercent: 15 }));
      expect(next).to.deep.equal(eip1559(115n, 12n));
    });

    it("follows the market when it rose more than the bump", function () {
      const next = bumpFees(eip1559(100n, 10n), eip1559(300n, 40n), policy({ bumpPercent: 10 }));
      expect(next).to.deep.equal(eip1559(300n, 40n));
    });

    it("always raises each fee by at least the 10% nodes require", function () {
      for (const old of [1n, 7n, 9n, 10n, 11n, 99n, 1_000_000_007n]) {
        const next = bumpFees(eip1559(old * 3n, old), eip1559(0n, 0n), policy({ bumpPercent: 10 }));
        if (next?.type !== "eip1559") throw new Error("no replacement");
        expect(next.maxPriorityFeePerGas * 10n >= old * 11n, `priority from ${old}`).to.equal(true);
        expect(next.maxFeePerGas * 10n >= old * 33n, `fee cap from ${old * 3n}`).to.equal(true);
      }
    });

    it("stays under the caps, and gives up when the caps leave no valid replacement", function () {
      const capped = bumpFees(
        eip1559(100n, 10n),
        eip1559(0n, 0n),
        policy({ maxFeePerGas: "109", maxPriorityFeePerGas: "50" }),
      );
      expect(capped).to.equal(undefined, "109 is below 100 + 10%");
      const underCap = bumpFees(
        eip1559(100n, 10n),
        eip1559(1_000n, 100n),
        policy({ maxFeePerGas: "120", maxPriorityFeePerGas: "12" }),
      );
      expect(underCap).to.deep.equal(eip1559(120n, 12n));
      const atCap = bumpFees(
        eip1559(120n, 12n),
        eip1559(1_000n, 100n),
        policy({ maxFeePerGas: "120", maxPriorityFeePerGas: "12" }),
      );
      expect(atCap).to.equal(undefined);
    });

    it("never offers a priority fee above the fee cap", function () {
      const next = bumpFees(
        eip1559(100n, 100n),
        eip1559(0n, 0n),
        policy({ maxFeePerGas: "115", maxPriorityFeePerGas: "1000" }),
      );
      expect(next).to.deep.equal(eip1559(115n, 115n));
    });

    it("raises a legacy gas price, and never bumps on a zero-gas chain", function () {
      expect(
        bumpFees(
          { type: "legacy", gasPrice: 1_000n },
          { type: "legacy", gasPrice: 0n },
          policy({ mode: "legacy" }),
        ),
      ).to.deep.equal({
        type: "legacy",
        gasPrice: 1_150n,
      });
      expect(
        bumpFees(
          { type: "legacy", gasPrice: 0n },
          { type: "legacy", gasPrice: 0n },
          policy({ mode: "zero" }),
        ),
      ).to.equal(undefined);
    });

    it("round-trips through the stored form", function () {
      for (const fees of [eip1559(123n, 4n), { type: "legacy", gasPrice: 9n } as const]) {
        expect(feesFromStored(storedFees(fees))).to.deep.equal(fees);
      }
    });
  });

  describe("marketFees on Hardhat's EDR", function () {
    let connection: Awaited<ReturnType<typeof network.create>>;
    let client: PublicClient;

    before(async function () {
      connection = await network.create();
      client = createPublicClient({ transport: custom(connection.provider) });
    });

    after(async function () {
      await connection.close();
    });

    it("offers twice the next base fee plus a priority fee, from eth_feeHistory", async function () {
      const history = await client.getFeeHistory({
        blockCount: 1,
        blockTag: "latest",
        rewardPercentiles: [50],
      });
      const nextBaseFee = history.baseFeePerGas.at(-1) as bigint;
      const fees = await marketFees(client, policy({ minPriorityFeePerGas: "7" }));
      if (fees.type !== "eip1559") throw new Error("expected EIP-1559 fees");
      expect(fees.maxPriorityFeePerGas >= 7n).to.equal(true);
      expect(fees.maxFeePerGas).to.equal(nextBaseFee * 2n + fees.maxPriorityFeePerGas);
    });

    it("caps what the market asks", async function () {
      const fees = await marketFees(client, policy({ maxFeePerGas: "5", maxPriorityFeePerGas: "3" }));
      expect(fees).to.deep.equal(eip1559(5n, 3n));
    });

    it("reads eth_gasPrice in legacy mode and offers nothing in zero mode", async function () {
      const gasPrice = await client.getGasPrice();
      expect(await marketFees(client, policy({ mode: "legacy" }))).to.deep.equal({
        type: "legacy",
        gasPrice,
      });
      expect(await marketFees(client, policy({ mode: "zero" }))).to.deep.equal({
        type: "legacy",
        gasPrice: 0n,
      });
    });

    describe("createFeeSource", function () {
      const MAX_AGE_MS = 200;
      let feeReads: number;
      let failNext: boolean;
      let clock: number;
      let head: SeenHead | undefined;
      let fees: () => Promise<FeeFields>;

      beforeEach(function () {
        feeReads = 0;
        failNext = false;
        clock = 10_000;
        head = undefined;
        // The node's own answers, with its eth_feeHistory calls counted (and failed once on demand).
        const counting = createPublicClient({
          transport: custom(
            {
              request: async (request: { method: string; params?: unknown }) => {
                if (request.method === "eth_feeHistory") {
                  feeReads++;
                  if (failNext) {
                    failNext = false;
                    throw new Error("connection reset");
                  }
                }
                return (await connection.provider.request(request as never)) as unknown;
              },
            },
            { retryCount: 0 },
          ),
        });
        fees = createFeeSource(counting, policy(), {
          maxAgeMs: MAX_AGE_MS,
          seenHead: () => head,
          now: () => clock,
        });
      });

      it("reads once per head, however long the head stays, and again when it moves", async function () {
        head = { number: 7, at: clock - 50 };
        const first = await fees();
        clock += 5 * MAX_AGE_MS;
        head = { number: 7, at: clock - 10 };
        expect(await fees()).to.deep.equal(first);
        expect(feeReads).to.equal(1, "the head has not moved since the read");
        head = { number: 8, at: clock };
        await fees();
        expect(feeReads).to.equal(2, "a new head brings a new read");
      });

      it("serves a read for maxAgeMs when no later look at the head vouches for it", async function () {
        await fees();
        clock += MAX_AGE_MS;
        await fees();
        expect(feeReads).to.equal(1, "within maxAgeMs, without any head");
        clock += 1;
        await fees();
        expect(feeReads).to.equal(2, "past maxAgeMs, without any head");
        // The same head, but only as seen before the read, or seen after it too long ago.
        head = { number: 7, at: clock - 1 };
        clock += MAX_AGE_MS + 1;
        await fees();
        expect(feeReads).to.equal(3, "the head look predates the read");
        head = { number: 7, at: clock + 1 };
        clock += 2 * MAX_AGE_MS + 2;
        await fees();
        expect(feeReads).to.equal(4, "the last look at the head is stale");
      });

      it("never serves a failed read again", async function () {
        failNext = true;
        let failure: unknown;
        await fees().catch((error: unknown) => (failure = error));
        expect(String(failure)).to.contain("connection reset");
        const next = await fees();
        expect(next.type).to.equal("eip1559");
        expect(feeReads).to.equal(2);
      });
    });
  });
});
