import { expect } from "chai";
import type { Address, Hex, PublicClient } from "viem";
import { generatePrivateKey } from "viem/accounts";

import { loadHotWallets } from "../../src/relayer/chain/hotWallets.ts";
import { relayerConfigSchema } from "../../src/relayer/config.ts";
import type { Broadcaster } from "../../src/relayer/engine/broadcaster.ts";
import { NonceManager } from "../../src/relayer/engine/nonceManager.ts";
import { Submitter } from "../../src/relayer/engine/submitter.ts";
import type { Tracker } from "../../src/relayer/engine/tracker.ts";
import { createLogger } from "../../src/relayer/logger.ts";
import { createMetrics } from "../../src/relayer/metrics.ts";
import { openSqliteDatabase } from "../../src/relayer/store/sqliteDatabase.ts";
import { SqlStore } from "../../src/relayer/store/sqlStore.ts";
import { figure, storedPayment } from "./helpers/requests.ts";

const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const WINDOW_MS = 1_000;

const until = async (condition: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe("submitter", function () {
  it("sends no batch of the stragglers while another wallet's claim holds the due requests", async function () {
    const config = relayerConfigSchema.parse({
      chain: { rpcUrl: "http://127.0.0.1:1", chainId: 31337, ledger: LEDGER, pollIntervalMs: 20 },
      batch: { maxItems: 100, windowMs: WINDOW_MS, gasLimit: "budget" },
    });
    /** The first claim holds its requests until the test opens this gate. */
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let claims = 0;
    const store = new (class extends SqlStore {
      override submitBatch(...[options, plan]: Parameters<SqlStore["submitBatch"]>) {
        return super.submitBatch(options, async (claimed) => {
          if (claims++ === 0) await gate;
          return plan(claimed);
        });
      }
    })(openSqliteDatabase(":memory:", "normal"), new Set());
    await store.init({ chainId: 31337, ledger: LEDGER });
    const wallets = await loadHotWallets(config.wallets, {
      QRSETTLE_RELAYER_KEYS: [generatePrivateKey(), generatePrivateKey()].join(","),
    });
    for (const wallet of wallets) {
      await store.ensureWallet(wallet.address, 0);
      await store.leaseWallet(wallet.address, "test", Date.now() + 60_000, Date.now());
    }
    const logger = createLogger("silent");
    const sent: Hex[] = [];
    const submitter = new Submitter({
      config,
      instance: "test",
      client: {} as PublicClient,
      store,
      broadcaster: {
        expect: () => () => undefined,
        send: (_wallet: Address, hash: Hex) => {
          sent.push(hash);
          return Promise.resolve("accepted");
        },
      } as unknown as Broadcaster,
      tracker: { inFlight: () => 0, recorded: () => undefined, kick: () => undefined } as unknown as Tracker,
      nonces: new NonceManager({ store, client: {} as PublicClient, logger }),
      fees: () => Promise.resolve({ type: "eip1559", maxFeePerGas: 2n, maxPriorityFeePerGas: 1n }),
      wallets: () => new Map(wallets.map((wallet) => [wallet.address, wallet])),
      metrics: createMetrics(),
      logger,
    });
    const due = Array.from({ length: 5 }, () => storedPayment({ acceptedAt: Date.now() - 2 * WINDOW_MS }));
    for (const request of due) await store.admit(request, { balance: figure(10n ** 18n) });
    submitter.start();
    try {
      await until(() => claims > 0, 2_000);
      // One payment arrives while the first wallet's claim holds the five due ones.
      const straggler = storedPayment();
      await store.admit(straggler, { balance: figure(10n ** 18n) });
      submitter.accepted();
      submitter.kick();
      await new Promise((resolve) => setTimeout(resolve, 10 * config.chain.pollIntervalMs));
      expect(sent, "a transaction for the straggler alone").to.have.length(0);

      openGate();
      await until(() => sent.length === 2, 3 * WINDOW_MS);
      expect(sent).to.have.length(2);
      const [first, second] = await Promise.all(
        sent.map(async (hash) => {
          const [transaction] = (await store.openTransactions(wallets.map((w) => w.address))).filter((t) =>
            t.attempts.some((attempt) => attempt.hash === hash),
          );
          return (await store.requestsOf(transaction?.id ?? -1)).map((request) => request.id);
        }),
      );
      expect(first).to.have.members(due.map((request) => request.id));
      expect(second, "the straggler, once its own window closed").to.deep.equal([straggler.id]);
    } finally {
      openGate();
      await submitter.stop();
      await store.close();
    }
  });
});
