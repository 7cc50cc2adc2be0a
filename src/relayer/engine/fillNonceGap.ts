import type { PublicClient } from "viem";

import type { HotWallet } from "../chain/hotWallets.ts";
import type { FeeFields } from "../chain/fees.ts";
import type { RelayerStore } from "../store/types.ts";
import type { Broadcaster } from "./broadcaster.ts";
import { signAttempt } from "./signAttempt.ts";

/**
 * Fills a nonce the chain waits for but no stored transaction holds with a zero-value transfer to the wallet
 * itself, stored before it is sent like any other transaction; without it every later transaction of the wallet
 * would wait forever.
 *
 * @example
 * for (const nonce of gaps) await fillNonceGap({ client, store, broadcaster, fees, chainId }, wallet, nonce);
 */
export async function fillNonceGap(
  deps: {
    client: PublicClient;
    store: RelayerStore;
    broadcaster: Broadcaster;
    fees: () => Promise<FeeFields>;
    chainId: number;
  },
  wallet: HotWallet,
  nonce: number,
): Promise<void> {
  const attempt = await signAttempt(
    wallet,
    { chainId: deps.chainId, nonce, to: wallet.address, data: "0x", gas: 21_000n, fees: await deps.fees() },
    false,
  );
  await deps.store.recordNoop(wallet.address, nonce, attempt);
  await deps.broadcaster.send(wallet.address, attempt.hash, attempt.raw);
}
