import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom, parseEther, type Address, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { loadHotWallets, type HotWallet } from "../../src/relayer/chain/hotWallets.ts";
import { marketFees } from "../../src/relayer/chain/fees.ts";
import { relayerConfigSchema } from "../../src/relayer/config.ts";
import { Broadcaster } from "../../src/relayer/engine/broadcaster.ts";
import { fillNonceGap } from "../../src/relayer/engine/fillNonceGap.ts";
import { NonceManager } from "../../src/relayer/engine/nonceManager.ts";
import { signAttempt } from "../../src/relayer/engine/signAttempt.ts";
import { createLogger } from "../../src/relayer/logger.ts";
import { createMetrics } from "../../src/relayer/metrics.ts";
import { createStore } from "../../src/relayer/store/createStore.ts";
import type { RelayerStore } from "../../src/relayer/store/types.ts";
import { tempDir } from "./helpers/relayer.ts";
import { figure } from "./helpers/requests.ts";

const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const fees = relayerConfigSchema.shape.fees.parse({});

describe("nonce manager", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let client: PublicClient;
  let store: RelayerStore;
  let cleanup: () => Promise<void>;
  let wallet: HotWallet;
  let nonces: NonceManager;
  let broadcaster: Broadcaster;
  const logger = createLogger("silent");

  beforeEach(async function () {
    connection = await network.create();
    client = createPublicClient({ transport: custom(connection.provider) });
    const dir = await tempDir();
    cleanup = dir.cleanup;
    store = await createStore(
      {
        kind: "sqlite",
        sqlitePath: path.join(dir.dir, "nonces.db"),
        sqliteSynchronous: "normal",
        sqliteCommitIntervalMs: 4,
        postgresSchema: "x",
        postgresPoolSize: 1,
      },
      new Set(),
    );
    await store.init({ chainId: 31337, ledger: LEDGER });
    const key = generatePrivateKey();
    [wallet] = (await loadHotWallets(relayerConfigSchema.shape.wallets.parse({}), {
      QRSETTLE_RELAYER_KEYS: key,
    })) as [HotWallet];
    const [funder] = await connection.viem.getWalletClients();
    await funder?.sendTransaction({ to: wallet.address, value: parseEther("10") });
    nonces = new NonceManager({ store, client, logger });
    broadcaster = new Broadcaster({
      client,
      store,
      metrics: createMetrics(),
      logger,
      onAccepted: () => undefined,
    });
  });

  afterEach(async function () {
    await store.close();
    await cleanup();
    await connection.close();
  });

  /** A zero-value self-transfer at `nonce` (with `data`, to tell two apart), signed by the hot wallet. */
  async function transfer(nonce: number, data: `0x${string}` = "0x") {
    return signAttempt(
      wallet,
      { chainId: 31337, nonce, to: wallet.address, data, gas: 25_000n, fees: await marketFees(client, fees) },
      false,
    );
  }

  it("starts a new wallet at the chain's nonce, with no gaps", async function () {
    expect(await nonces.reconcile(wallet.address)).to.deep.equal({ next: 0, gaps: [] });
    expect(await nonces.next(wallet.address)).to.equal(0);
  });

  it("moves past nonces the key used outside the relayer", async function () {
    for (let nonce = 0; nonce < 3; nonce++) {
      const { raw } = await transfer(nonce);
      await client.request({ method: "eth_sendRawTransaction", params: [raw] });
    }
    expect(await nonces.reconcile(wallet.address)).to.deep.equal({ next: 3, gaps: [] });
    expect(await nonces.next(wallet.address)).to.equal(3);
  });

  it("finds a nonce no stored transaction holds, and fills it so later transactions can be mined", async function () {
    await nonces.reconcile(wallet.address);
    await store.raiseNextNonce(wallet.address, 2);
    const second = await transfer(1);
    await store.recordNoop(wallet.address, 1, second);
    expect(await broadcaster.send(wallet.address, second.hash, second.raw)).to.equal("nonceTooHigh");

    const { gaps } = await nonces.reconcile(wallet.address);
    expect(gaps).to.deep.equal([0]);
    await fillNonceGap(
      { client, store, broadcaster, fees: () => marketFees(client, fees), chainId: 31337 },
      wallet,
      0,
    );
    expect(await broadcaster.send(wallet.address, second.hash, second.raw)).to.equal("accepted");
    expect(await client.getTransactionCount({ address: wallet.address })).to.equal(2);
    expect((await nonces.reconcile(wallet.address)).gaps).to.deep.equal([]);
  });

  it("never gives one nonce to two transactions, even when two submissions race", async function () {
    await nonces.reconcile(wallet.address);
    await store.leaseWallet(wallet.address, "test", Date.now() + 60_000, Date.now());
    for (let i = 0; i < 4; i++) {
      await store.admit(
        {
          id: `0x${(i + 1).toString(16).padStart(64, "0")}`,
          kind: "payment",
          signer: privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Address,
          currency: 156,
          nonce: 0n,
          amount: 1n,
          deadline: 4_000_000_000n,
          body: "{}",
          acceptedAt: Date.now(),
        },
        { balance: figure(10n) },
      );
    }
    const submit = (data: `0x${string}`) =>
      store.submitBatch({ kind: "payment", limit: 2, now: Date.now(), instance: "test" }, async (claimed) => {
        const nonce = await nonces.next(wallet.address);
        return {
          fail: [],
          submission: {
            wallet: wallet.address,
            nonce,
            kind: "payment",
            currency: 156,
            attempt: await transfer(nonce, data),
            requestIds: claimed.map((c) => c.id),
          },
        };
      });
    const results = await Promise.allSettled([submit("0x01"), submit("0x02")]);
    expect(results.map((result) => result.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
    const rejected = results.find((result) => result.status === "rejected");
    expect(rejected?.reason).to.have.property("code", "NONCE_CONFLICT");
    expect(await nonces.next(wallet.address)).to.equal(1);
    expect(await store.transactionNonces(wallet.address, 0)).to.deep.equal([0]);
  });
});
