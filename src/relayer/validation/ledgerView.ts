import { encodeFunctionData, parseAbi, size, slice, type Address, type Hex, type PublicClient } from "viem";

import { ERC1271_GAS } from "../../protocol/batch.ts";
import { bankRegistryAbi, settlementLedgerAbi } from "../../protocol/generated/abi.ts";
import { BANK_STATUSES } from "../../protocol/types.ts";
import type { ChainFigure } from "../store/types.ts";
import { classifyRpcError } from "../chain/classifyRpcError.ts";
import { calldataTokens, TX_BASE_GAS } from "../engine/gas.ts";

/** A customer account in one currency, as `getAccount` returns it. */
export interface LedgerAccount {
  bankId: number;
  balance: bigint;
  frozen: boolean;
  limited: boolean;
  nonceBase: bigint;
  nonceBitmap: bigint;
  /** The block it was read at; our settlements in later blocks are applied to it. */
  block: number;
}

/** A customer's daily limit state. */
export interface LedgerCustomerLimit {
  dailyLimit: bigint;
  spentToday: bigint;
  /** UTC day (unix seconds / 86,400) `spentToday` refers to. */
  day: bigint;
  /** The block it was read at; our settlements in later blocks are applied to it. */
  block: number;
}

/** A settlement this relayer saw final, as `LedgerView.settled` applies it. */
export interface OwnSettlement {
  signer: Address;
  currency: number;
  amount: bigint;
  nonce: bigint;
  /** Whether it spends the signer's daily limit (payments do, refunds do not). */
  payment: boolean;
  /** The block it was included in. */
  block: number;
}

const erc1271Abi = parseAbi([
  "function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)",
]);
const ERC1271_MAGIC_WORD = `0x1626ba7e${"0".repeat(56)}`;
/** Registry settings change rarely (operator transactions); accounts change with every payment. */
const SETTINGS_TTL_MS = 10_000;

/**
 * What intake needs to know from the ledger and registry, read through short-lived caches so that a burst of
 * payments costs a handful of `eth_call`s, not one per check. Concurrent reads of one key share one call.
 * Accounts and daily limits are read at a known block (the tracker's last recorded head) and cached for
 * `accountTtlMs`, with our own settlements after that block applied as they become final; intake counts what is
 * queued and not in the block read, so a payment is never counted twice (`ChainFigure`).
 */
export interface LedgerView {
  /** An account in a currency; `fresh` skips the cache (and refreshes it). */
  account(address: Address, currency: number, fresh?: boolean): Promise<LedgerAccount>;
  customerLimit(address: Address, currency: number, fresh?: boolean): Promise<LedgerCustomerLimit>;
  /** Whether a currency is listed and enabled. */
  currencyEnabled(currency: number): Promise<boolean>;
  /** Whether a bank is registered and active. */
  bankActive(bankId: number): Promise<boolean>;
  /** The largest single payment of `bankId`'s customers in `currency` (0: none). */
  maxPayment(bankId: number, currency: number): Promise<bigint>;
  /** Whether an address has code (a smart account, or an EIP-7702 delegated account). */
  hasCode(address: Address): Promise<boolean>;
  /** Whether a smart account accepts `signature` for `digest` (ERC-1271); a revert or odd answer means no. */
  isValidErc1271(address: Address, digest: Hex, signature: Hex): Promise<boolean>;
  /** What the ledger has refunded of a payment, read as `readAt` reads. */
  refundedAmount(paymentId: Hex, fresh?: boolean): Promise<ChainFigure>;
  /**
   * Reads at a known block: the relayer's recorded head (`head`, no round trip), else, or when `fresh`, the node's
   * newest. A refusal is confirmed with fresh reads, so a deposit or an account opened a moment ago counts; a
   * read the node cannot answer at the relayer's block (one behind it, as behind a load balancer) is made fresh.
   */
  readAt<T>(fresh: boolean, read: (blockNumber: bigint) => Promise<T>): Promise<{ value: T; block: number }>;
  /**
   * Applies a settlement this relayer saw final to the cached account and daily limit, as the ledger did, if
   * they were read before its block: the balance goes down, the nonce is used (the window sliding past used
   * nonces at its start) and a payment adds to the day's spending. A cached account thus stays exact for our
   * own payments, and is re-read only when it expires, for what others changed.
   */
  settled(settlement: OwnSettlement): void;
}

type Entry<T> = { value: Promise<T>; expires: number };

/** Whether a read failed for want of an answer (timeout, connection), not because the node answered no. */
function outOfReach(error: unknown): boolean {
  const kind = classifyRpcError(error);
  return kind === "timeout" || kind === "network";
}

/** `AccountLib.useNonce` and the debit, on a cached account. */
function applyToAccount(account: LedgerAccount, { amount, nonce, block }: OwnSettlement): void {
  if (block <= account.block) return;
  account.balance = account.balance > amount ? account.balance - amount : 0n;
  const offset = nonce - account.nonceBase;
  if (offset < 0n || offset >= 64n) return;
  let bitmap = account.nonceBitmap | (1n << offset);
  let base = account.nonceBase;
  while (bitmap & 1n) {
    bitmap >>= 1n;
    base += 1n;
  }
  account.nonceBitmap = bitmap;
  account.nonceBase = base;
}

/** `_spendDailyLimit`, on a cached limit (the day by this machine's clock, as `dailyRemaining` takes it). */
function applyToLimit(limit: LedgerCustomerLimit, { amount, payment, block }: OwnSettlement): void {
  if (!payment || block <= limit.block) return;
  const today = BigInt(Math.floor(Date.now() / 86_400_000));
  limit.spentToday = (limit.day === today ? limit.spentToday : 0n) + amount;
  limit.day = today;
}

function cached<T>(ttlMs: number, load: (key: string, fresh: boolean) => Promise<T>) {
  const entries = new Map<string, Entry<T>>();
  return {
    peek(key: string): Promise<T> | undefined {
      const entry = entries.get(key);
      return entry !== undefined && entry.expires > Date.now() ? entry.value : undefined;
    },
    get(key: string, fresh = false): Promise<T> {
      const now = Date.now();
      const entry = entries.get(key);
      if (!fresh && entry !== undefined && entry.expires > now) return entry.value;
      const value = load(key, fresh);
      entries.set(key, { value, expires: now + ttlMs });
      // A failed read must not be served from the cache.
      value.catch(() => entries.delete(key));
      return value;
    },
  };
}

/**
 * Creates the cached view of one ledger and its registry. `head` gives the block reads are made at: one up to
 * which the store has recorded our transactions as included (the tracker's recorded head); without one, the
 * node's newest.
 *
 * @example
 * const view = await createLedgerView(client, ledger, 2_000, () => tracker.recordedHead?.number);
 * const { bankId, balance, block } = await view.account(payer, 156);
 */
export async function createLedgerView(
  client: PublicClient,
  ledger: Address,
  accountTtlMs: number,
  head: () => number | undefined = () => undefined,
): Promise<LedgerView> {
  const registry = await client.readContract({
    address: ledger,
    abi: settlementLedgerAbi,
    functionName: "registry",
  });
  const readAt = async <T>(fresh: boolean, read: (blockNumber: bigint) => Promise<T>) => {
    const seen = fresh ? undefined : head();
    if (seen !== undefined) {
      try {
        return { value: await read(BigInt(seen)), block: seen };
      } catch (error) {
        // A node out of reach is not asked twice; one that answered is asked again below, at its newest block.
        if (outOfReach(error)) throw error;
      }
    }
    const block = Number(await client.getBlockNumber({ cacheTime: 0 }));
    return { value: await read(BigInt(block)), block };
  };
  const split = (key: string) => key.split(":") as [Address, string];
  const accounts = cached(accountTtlMs, async (key, fresh): Promise<LedgerAccount> => {
    const [address, currency] = split(key);
    const { value: account, block } = await readAt(fresh, (blockNumber) =>
      client.readContract({
        address: ledger,
        abi: settlementLedgerAbi,
        functionName: "getAccount",
        args: [address, Number(currency)],
        blockNumber,
      }),
    );
    return { ...account, nonceBase: BigInt(account.nonceBase), nonceBitmap: account.nonceBitmap, block };
  });
  const limits = cached(accountTtlMs, async (key, fresh): Promise<LedgerCustomerLimit> => {
    const [address, currency] = split(key);
    const { value: limit, block } = await readAt(fresh, (blockNumber) =>
      client.readContract({
        address: ledger,
        abi: settlementLedgerAbi,
        functionName: "getCustomerLimit",
        args: [address, Number(currency)],
        blockNumber,
      }),
    );
    return { dailyLimit: limit.dailyLimit, spentToday: limit.spentToday, day: limit.day, block };
  });
  const currencies = cached(SETTINGS_TTL_MS, async (currency) => {
    const config = await client.readContract({
      address: registry,
      abi: bankRegistryAbi,
      functionName: "getCurrency",
      args: [Number(currency)],
    });
    return config.listed && config.enabled;
  });
  const banks = cached(SETTINGS_TTL_MS, async (bankId) => {
    const status = await client.readContract({
      address: registry,
      abi: bankRegistryAbi,
      functionName: "bankStatus",
      args: [Number(bankId)],
    });
    return BANK_STATUSES[status] === "Active";
  });
  const bankLimits = cached(SETTINGS_TTL_MS, async (key) => {
    const [bankId, currency] = key.split(":");
    const result = await client.readContract({
      address: registry,
      abi: bankRegistryAbi,
      functionName: "getBankLimits",
      args: [Number(bankId), Number(currency)],
    });
    return result.maxPayment;
  });
  const code = cached(SETTINGS_TTL_MS, async (address) => {
    const bytecode = await client.getCode({ address: address as Address });
    return bytecode !== undefined && bytecode !== "0x";
  });
  return {
    account: (address, currency, fresh) => accounts.get(`${address.toLowerCase()}:${currency}`, fresh),
    customerLimit: (address, currency, fresh) => limits.get(`${address.toLowerCase()}:${currency}`, fresh),
    currencyEnabled: (currency) => currencies.get(String(currency)),
    bankActive: (bankId) => banks.get(String(bankId)),
    maxPayment: (bankId, currency) => bankLimits.get(`${bankId}:${currency}`),
    hasCode: (address) => code.get(address.toLowerCase()),
    async isValidErc1271(address, digest, signature) {
      try {
        const data = encodeFunctionData({
          abi: erc1271Abi,
          functionName: "isValidSignature",
          args: [digest, signature],
        });
        // With the gas the contracts give the wallet, no more: an answer only more gas brings is not one the
        // ledger will hear, and a payment accepted on it could never settle.
        const { data: returned } = await client.call({
          to: address,
          data,
          gas: ERC1271_GAS + TX_BASE_GAS + 4n * calldataTokens(data),
        });
        // As `SignatureLib`: the first word must be the magic value, left-aligned, nothing else.
        return (
          returned !== undefined && size(returned) >= 32 && slice(returned, 0, 32) === ERC1271_MAGIC_WORD
        );
      } catch (error) {
        // A wallet that reverts, answers nothing or answers garbage says no; an unreachable node says nothing.
        if (outOfReach(error)) throw error;
        return false;
      }
    },
    refundedAmount: (paymentId, fresh = false) =>
      readAt(fresh, (blockNumber) =>
        client.readContract({
          address: ledger,
          abi: settlementLedgerAbi,
          functionName: "refundedAmount",
          args: [paymentId],
          blockNumber,
        }),
      ),
    readAt,
    settled(settlement) {
      // Applied to whichever read is cached now, once it is in: one still on its way may be from before the block.
      const key = `${settlement.signer.toLowerCase()}:${settlement.currency}`;
      const ignore = () => undefined;
      void accounts.peek(key)?.then((account) => {
        applyToAccount(account, settlement);
      }, ignore);
      void limits.peek(key)?.then((limit) => {
        applyToLimit(limit, settlement);
      }, ignore);
    },
  };
}
