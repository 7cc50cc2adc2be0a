import { writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";

import {
  applyEnvOverrides,
  configKeys,
  ENV_PREFIX,
  loadRelayerConfig,
  parseRelayerConfig,
} from "../../src/relayer/config.ts";
import { tempDir } from "./helpers/relayer.ts";

const chain = {
  rpcUrl: "http://127.0.0.1:8545",
  chainId: 31337,
  ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

describe("relayer configuration", function () {
  it("fills every default around the three required chain keys", function () {
    const config = parseRelayerConfig({ chain });
    expect(config.store).to.include({ kind: "sqlite", sqliteSynchronous: "full" });
    expect(config.batch).to.include({ gasCap: 16_777_216, gasLimit: "estimate" });
    expect(config.fees).to.include({ mode: "eip1559", bumpPercent: 15 });
    expect(config.api).to.include({ auth: "required", maxBodyBytes: 16_384 });
  });

  it("reports every problem with where it is", function () {
    expect(() =>
      parseRelayerConfig({
        chain: { ...chain, rpcUrl: "not a url" },
        batch: { maxItems: 0 },
        store: { kind: "postgres" },
        typo: 1,
      }),
    )
      .to.throw()
      .that.satisfies((error: { code: string; message: string }) => {
        expect(error.code).to.equal("CONFIG_INVALID");
        for (const where of ["chain.rpcUrl", "batch.maxItems", "store.postgresUrl", "typo"])
          expect(error.message).to.include(where);
        return true;
      });
  });

  it("refuses a replacement bump below the 10% nodes require", function () {
    expect(() => parseRelayerConfig({ chain, fees: { bumpPercent: 5 } })).to.throw(/fees.bumpPercent/);
  });

  it("lets environment variables override any key, typed by the schema", function () {
    const input = applyEnvOverrides(
      { chain: { ...chain, confirmations: 12 } },
      {
        QRSETTLE_RELAYER_CHAIN_CONFIRMATIONS: "2",
        QRSETTLE_RELAYER_STORE_KIND: "postgres",
        QRSETTLE_RELAYER_STORE_POSTGRES_URL: "postgres://db/relayer",
        QRSETTLE_RELAYER_API_CLIENTS: JSON.stringify([{ id: "app", keySha256: "a".repeat(64) }]),
        QRSETTLE_RELAYER_FEES_MAX_FEE_PER_GAS: "123",
        UNRELATED: "x",
      },
    );
    const config = parseRelayerConfig(input);
    expect(config.chain.confirmations).to.equal(2);
    expect(config.store).to.include({ kind: "postgres", postgresUrl: "postgres://db/relayer" });
    expect(config.api.clients[0]).to.include({ id: "app", ratePerSecond: 500 });
    expect(config.fees.maxFeePerGas).to.equal("123", "a wei amount stays a decimal string");
    expect(() => applyEnvOverrides({}, { QRSETTLE_RELAYER_API_CLIENTS: "[oops" })).to.throw(
      /QRSETTLE_RELAYER_API_CLIENTS must be JSON/,
    );
  });

  it("reads a file, then the environment; and says which file is unreadable or not JSON", async function () {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "relayer.json");
      await writeFile(file, JSON.stringify({ chain, batch: { windowMs: 50 } }));
      const config = await loadRelayerConfig(file, { QRSETTLE_RELAYER_BATCH_WINDOW_MS: "75" });
      expect(config.batch.windowMs).to.equal(75);
      await writeFile(file, "{ not json");
      await loadRelayerConfig(file, {}).then(
        () => expect.fail("accepted invalid JSON"),
        (error: unknown) => expect((error as { code: string }).code).to.equal("CONFIG_INVALID"),
      );
      await loadRelayerConfig(path.join(dir, "missing.json"), {}).then(
        () => expect.fail("read a missing file"),
        (error: unknown) => expect((error as { code: string }).code).to.equal("CONFIG_UNREADABLE"),
      );
    } finally {
      await cleanup();
    }
  });

  it("names one environment variable per key, and holds no secret itself (only where to find one)", function () {
    const keys = configKeys();
    const names = keys.map((key) => key.env);
    expect(new Set(names).size).to.equal(names.length);
    for (const key of keys) {
      expect(key.env.startsWith(ENV_PREFIX)).to.equal(true);
      expect(key.description, key.path.join(".")).to.not.equal("");
    }
    const secretLike = keys
      .map((key) => key.path.join("."))
      .filter((name) => /key|password|secret/i.test(name));
    expect(secretLike).to.deep.equal([
      "wallets.privateKeysEnv",
      "wallets.keystores",
      "fx.provider.quoteKeyEnv",
      "fx.provider.quoteKeystore.path",
      "fx.provider.quoteKeystore.passwordEnv",
    ]);
  });
});
