import { hostname } from "node:os";

import { getAddress, type Address, type Hex, type PublicClient, type Transport } from "viem";

import { SECP256K1_BACKEND } from "../crypto/secp256k1.ts";
import { EIP712_DOMAIN_TYPES, ledgerDomain, ledgerTypes } from "../protocol/eip712.ts";
import { fxDomain, fxTypes, type FxQuote } from "../protocol/fx.ts";
import { bankRegistryAbi, settlementLedgerAbi } from "../protocol/generated/abi.ts";
import { ROUTES } from "./api/routes.ts";
import { openApiDocument } from "./api/openApi.ts";
import type { ApiContext } from "./api/route.ts";
import { startApiServer } from "./api/server.ts";
import { createChainClient } from "./chain/chainClient.ts";
import { loadHotWallets, type HotWallet } from "./chain/hotWallets.ts";
import { retryTransient } from "./chain/retryTransient.ts";
import type { RelayerConfig } from "./config.ts";
import { Broadcaster } from "./engine/broadcaster.ts";
import { createFeeSource, type SeenHead } from "./engine/feeSource.ts";
import { fillNonceGap } from "./engine/fillNonceGap.ts";
import { NonceManager } from "./engine/nonceManager.ts";
import { relayingProblem } from "./engine/relayingProblem.ts";
import { Submitter } from "./engine/submitter.ts";
import { Tracker } from "./engine/tracker.ts";
import { WalletLeases } from "./engine/walletLeases.ts";
import { WebhookDispatcher } from "./engine/webhooks.ts";
import { ApiError, RelayerError } from "./errors.ts";
import { createQuoteProvider, type QuoteProvider } from "./fx/quoteProvider.ts";
import { collectQuotes } from "./fx/quoteSources.ts";
import { createQuoteVerifier } from "./fx/verifyQuote.ts";
import { Admission } from "./admission.ts";
import { Intake } from "./intake.ts";
import { createLogger, type RelayerLogger } from "./logger.ts";
import { createMetrics, type RelayerMetrics } from "./metrics.ts";
import { createStore } from "./store/createStore.ts";
import { REQUEST_KINDS, type RelayerStore } from "./store/types.ts";
import { createLedgerView } from "./validation/ledgerView.ts";
import { createSignerRecovery } from "./validation/signerRecovery.ts";
import {
  createFxTypedDataHasher,
  createTypedDataHasher,
  type FxTypedDataHasher,
} from "./validation/typedDataHasher.ts";

/**
 * How old the tracker's last recorded head may be for intake to read the ledger there: a poll on a busy node takes
 * a while, an idle tracker looks once a second; older, the tracker is not reaching the node, and reads go to the
 * node's newest block. A refusal is confirmed at the node's newest block whatever this is.
 */
const LEDGER_HEAD_MAX_AGE_MS = 5_000;

/** A running relayer. */
export interface Relayer {
  /** Base URL of its HTTP API. */
  url: string;
  instance: string;
  bankId: number;
  /** Addresses of its hot wallets (held or not). */
  wallets: Address[];
  store: RelayerStore;
  metrics: RelayerMetrics;
  /**
   * Graceful shutdown: refuses new payments, sends what is queued, waits for transactions in flight to finish
   * (up to `shutdown.drainTimeoutMs`), releases its wallets and closes. Whatever is left stays in the store
   * for the next start.
   */
  stop(): Promise<void>;
}

/** Overrides for embedding and tests. */
export interface RelayerOptions {
  /** Where keys, passwords and secrets are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  logger?: RelayerLogger;
  /** A viem transport instead of `chain.rpcUrl`, e.g. Hardhat's in-process provider. */
  transport?: Transport;
}

const VERSION = "0.1.0";

/** The bank every wallet relays for; refuses wallets of no bank, or of different banks. */
async function relayerBankOf(
  client: PublicClient,
  registry: Address,
  wallets: readonly HotWallet[],
): Promise<number> {
  const banks = await Promise.all(
    wallets.map((wallet) =>
      client.readContract({
        address: registry,
        abi: bankRegistryAbi,
        functionName: "relayerBank",
        args: [wallet.address],
      }),
    ),
  );
  const unregistered = wallets.filter((_wallet, index) => banks[index] === 0).map((wallet) => wallet.address);
  if (unregistered.length > 0) {
    throw new RelayerError(
      "RELAYER_NOT_REGISTERED",
      "Hot wallets must be relayers of a bank in the registry.",
      {
        details: { wallets: unregistered.join(", ") },
      },
    );
  }
  const distinct = new Set(banks);
  if (distinct.size !== 1) {
    throw new RelayerError("WALLETS_OF_DIFFERENT_BANKS", "All hot wallets must relay for the same bank.", {
      details: { banks: [...distinct].join(", ") },
    });
  }
  return banks[0] as number;
}

/** Cross-currency payments: the FX contract, its domain, the quote check, and this bank's provider if it is one. */
async function startFx(
  config: RelayerConfig,
  client: PublicClient,
  registry: Address,
  chainId: number,
  bankId: number,
  env: NodeJS.ProcessEnv,
): Promise<{
  address: Address;
  domain: ReturnType<typeof fxDomain>;
  hasher: FxTypedDataHasher;
  isQuoteSigned: (quote: FxQuote, quoteSignature: Hex) => Promise<boolean>;
  provider?: QuoteProvider;
}> {
  const address = getAddress(config.chain.fx as Address);
  const code = await retryTransient(() => client.getCode({ address }));
  if (code === undefined || code === "0x") {
    throw new RelayerError("FX_NOT_FOUND", `No contract at chain.fx ${address} on chain ${chainId}.`);
  }
  const domain = fxDomain(chainId, address);
  const result = {
    address,
    domain,
    hasher: await createFxTypedDataHasher(domain),
    isQuoteSigned: createQuoteVerifier(client, registry, domain),
  };
  if (config.fx.provider === undefined) return result;
  const provider = await createQuoteProvider(config.fx.provider, env, {
    bankId,
    domain,
    chainTime: async () => (await client.getBlock()).timestamp,
  });
  const signerBank = await retryTransient(() =>
    client.readContract({
      address: registry,
      abi: bankRegistryAbi,
      functionName: "relayerBank",
      args: [provider.signer],
    }),
  );
  if (signerBank !== bankId) {
    throw new RelayerError(
      "FX_QUOTE_KEY_NOT_REGISTERED",
      `The quote key ${provider.signer} must be a relayer key of bank ${bankId}; FxSettlement refuses its quotes.`,
    );
  }
  return { ...result, provider };
}

/**
 * Starts a relayer from a validated configuration: checks the chain, the ledger and the wallets' bank, opens
 * the store, leases wallets, and starts the batcher, tracker, webhooks and HTTP API.
 *
 * @example
 * const relayer = await startRelayer(await loadRelayerConfig("relayer.json", process.env));
 * process.once("SIGTERM", () => void relayer.stop());
 */
export async function startRelayer(config: RelayerConfig, options: RelayerOptions = {}): Promise<Relayer> {
  const env = options.env ?? process.env;
  const instance = config.instanceId ?? hostname();
  const logger = options.logger ?? createLogger(config.log.level, { instance });
  const metrics = createMetrics();
  const wallets = await loadHotWallets(config.wallets, env);
  const client = createChainClient(config.chain, options.transport);
  const ledgerAddress = getAddress(config.chain.ledger);

  const chainId = await retryTransient(() => client.getChainId());
  if (chainId !== config.chain.chainId) {
    throw new RelayerError(
      "CHAIN_MISMATCH",
      `The node serves chain ${chainId}, not ${config.chain.chainId}.`,
    );
  }
  const code = await retryTransient(() => client.getCode({ address: ledgerAddress }));
  if (code === undefined || code === "0x") {
    throw new RelayerError("LEDGER_NOT_FOUND", `No contract at ${ledgerAddress} on chain ${chainId}.`);
  }
  const registry = await retryTransient(() =>
    client.readContract({ address: ledgerAddress, abi: settlementLedgerAbi, functionName: "registry" }),
  );
  const bankId = await retryTransient(() => relayerBankOf(client, registry, wallets));

  const webhookClients = new Set(
    config.api.clients.filter((client) => client.webhookUrl).map((client) => client.id),
  );
  const store = await createStore(config.store, webhookClients);
  await store.init({ chainId, ledger: ledgerAddress });
  const dispatcher = new WebhookDispatcher({
    config,
    store,
    metrics,
    logger: logger.child({ module: "webhooks" }),
    env,
  });

  const domain = ledgerDomain(chainId, ledgerAddress);
  // The intake's reads (accounts, limits, quote use) go in batches; sends and receipts keep `client`.
  const reads = createChainClient(config.chain, options.transport, { batchReads: true });
  const [hasher, recovery, ledger] = await Promise.all([
    createTypedDataHasher(domain),
    createSignerRecovery(config.validation.recoveryWorkers),
    // Reads at the head of the tracker's last finished poll (the tracker is built below; nothing reads before it
    // starts): the store has recorded what of ours is included up to it, so it knows what the reads hold.
    retryTransient(() =>
      createLedgerView(reads, ledgerAddress, config.validation.accountCacheMs, (): number | undefined => {
        const head: SeenHead | undefined = tracker.recordedHead;
        return head !== undefined && Date.now() - head.at <= LEDGER_HEAD_MAX_AGE_MS ? head.number : undefined;
      }),
    ),
  ]);
  const fees = createFeeSource(client, config.fees, {
    // A poll's look at the head comes back up to a poll interval after the previous one, later on a busy node.
    maxAgeMs: 2 * config.chain.pollIntervalMs,
    seenHead: () => (tracker.head === undefined ? undefined : { number: tracker.head, at: tracker.headAt }),
  });

  const fx =
    config.chain.fx === undefined ? undefined : await startFx(config, client, registry, chainId, bankId, env);

  // The broadcaster and leases call back into the tracker and submitter built below; they only do so once
  // everything is started.
  const broadcaster = new Broadcaster({
    client,
    store,
    metrics,
    logger: logger.child({ module: "broadcaster" }),
    onAccepted: () => {
      tracker.kick();
    },
  });
  const nonces = new NonceManager({ store, client, logger: logger.child({ module: "nonces" }) });
  const leases = new WalletLeases({
    store,
    wallets,
    instance,
    leaseSeconds: config.wallets.leaseSeconds,
    nonces,
    fillGap: (wallet, nonce) => fillNonceGap({ client, store, broadcaster, fees, chainId }, wallet, nonce),
    logger: logger.child({ module: "leases" }),
    onChange: () => {
      submitter.sync();
    },
  });
  const tracker = new Tracker({
    config,
    client,
    store,
    broadcaster,
    fees,
    wallets: () => leases.held(),
    ledger,
    metrics,
    logger: logger.child({ module: "tracker" }),
    onFinished: () => {
      submitter.kick();
    },
  });
  const submitter = new Submitter({
    config,
    instance,
    client,
    store,
    broadcaster,
    tracker,
    nonces,
    fees,
    wallets: () => leases.held(),
    metrics,
    logger: logger.child({ module: "submitter" }),
    onDequeued: () => {
      admission.dequeued();
    },
    relayingProblem: (wallet) => relayingProblem(client, registry, bankId, wallet),
  });
  const admission = new Admission({
    maxQueued: config.api.maxQueued,
    maxWaitMs: config.api.queueWaitMs,
    countQueued: async (cap) => {
      const counts = await Promise.all(
        // Every waiting request, whatever its not-before: a requeued one will be batched again too.
        REQUEST_KINDS.map((kind) => store.queueSummary(kind, Number.MAX_SAFE_INTEGER, cap)),
      );
      return counts.reduce((sum, { count }) => sum + count, 0);
    },
    onWaiting: (waiting) => {
      metrics.intakeWaiting.set(waiting);
    },
  });

  let draining = false;
  const intake = new Intake({
    validation: {
      bankId,
      hasher,
      recovery,
      ledger,
      store,
      minDeadlineSeconds: config.validation.minDeadlineSeconds,
      now: Date.now,
      client,
      ledgerAddress,
      logLookbackBlocks: config.chain.logLookbackBlocks,
    },
    store,
    admission,
    metrics,
    ...(fx === undefined
      ? {}
      : {
          fx: {
            bankId,
            hasher,
            recovery,
            ledger,
            store,
            minDeadlineSeconds: config.validation.minDeadlineSeconds,
            now: Date.now,
            client: reads,
            fx: fx.address,
            fxHasher: fx.hasher,
            isQuoteSigned: fx.isQuoteSigned,
          },
        }),
    logger: logger.child({ module: "intake" }),
    head: () => tracker.head,
    onAccepted: () => {
      submitter.accepted();
    },
  });
  const openApi = openApiDocument(ROUTES, VERSION);
  const context: ApiContext = {
    intake,
    store,
    metrics,
    head: () => tracker.head,
    eip712: {
      domain: { ...domain, chainId },
      types: { ...EIP712_DOMAIN_TYPES, ...ledgerTypes },
      primaryTypes: Object.keys(ledgerTypes),
      ...(fx === undefined
        ? {}
        : {
            fx: {
              domain: fx.domain,
              types: { ...EIP712_DOMAIN_TYPES, ...fxTypes },
              primaryTypes: Object.keys(fxTypes),
            },
          }),
    },
    async readiness() {
      const checks: Record<string, string> = {};
      try {
        await store.queueSummary("payment", Date.now(), 1);
        checks.store = "ok";
      } catch (error) {
        checks.store = error instanceof Error ? error.message : "unavailable";
      }
      const staleMs = Date.now() - tracker.headAt;
      checks.chain =
        staleMs <= Math.max(5_000, 10 * config.chain.pollIntervalMs) ? "ok" : `no answer for ${staleMs} ms`;
      checks.wallets = leases.held().size > 0 ? "ok" : "no hot wallet leased";
      checks.batches = submitter.lastError ?? "ok";
      checks.accepting = draining ? "draining" : "ok";
      return { ready: Object.values(checks).every((value) => value === "ok"), checks };
    },
    openApi: () => openApi,
    fx: {
      ...(fx?.provider === undefined ? {} : { provider: fx.provider }),
      collect(from, to, amount) {
        if (fx === undefined || config.fx.providers.length === 0) {
          return Promise.reject(
            new ApiError("FX_NOT_ENABLED", "This relayer has no FX contract (chain.fx) or no fx.providers."),
          );
        }
        return collectQuotes(
          {
            sources: config.fx.providers,
            ...(fx.provider === undefined ? {} : { provider: fx.provider }),
            isSigned: fx.isQuoteSigned,
            timeoutMs: config.fx.quoteTimeoutMs,
            env,
          },
          from,
          to,
          amount,
        );
      },
    },
  };

  await leases.start();
  tracker.start();
  submitter.start();
  dispatcher.start();
  const server = await startApiServer(
    config.api,
    ROUTES,
    context,
    logger.child({ module: "api" }),
    () => !draining,
  );
  const sampler = setInterval(() => {
    store
      .countByStatus()
      .then((counts) => {
        for (const [status, count] of Object.entries(counts)) metrics.queueDepth.set({ status }, count);
      })
      .catch(() => undefined);
  }, 5_000);
  logger.info(
    {
      url: server.url,
      bank: bankId,
      wallets: wallets.map((wallet) => wallet.address),
      store: config.store.kind,
      // A platform without the native build runs the WebAssembly one: correct, at about a quarter the speed.
      secp256k1: SECP256K1_BACKEND,
    },
    "relayer started",
  );

  return {
    url: server.url,
    instance,
    bankId,
    wallets: wallets.map((wallet) => wallet.address),
    store,
    metrics,
    async stop() {
      if (draining) return;
      draining = true;
      logger.info("draining");
      const deadline = Date.now() + config.shutdown.drainTimeoutMs;
      await submitter.flush(Math.max(0, deadline - Date.now()));
      await submitter.stop();
      const drained = await tracker.drain(Math.max(0, deadline - Date.now()));
      await tracker.stop();
      await dispatcher.stop();
      clearInterval(sampler);
      await leases.stop();
      await server.close();
      await recovery.close();
      await store.close();
      logger.info(
        { drained },
        drained ? "stopped" : "stopped with transactions in flight; they resume on the next start",
      );
    },
  };
}
