import type { Address, Hex } from "viem";

import { decodePaymentTerms } from "../protocol/events.ts";
import type { AuditEvent } from "./decodeLog.ts";
import type { Evidence, FindingCollector } from "./findings.ts";
import { NonceSet } from "./nonceSet.ts";

/** One customer account in one currency, rebuilt from events. */
export interface ReplayedAccount {
  address: Address;
  currency: number;
  bank: number;
  balance: bigint;
  frozen: boolean;
  limited: boolean;
  nonces: NonceSet;
  /** Daily limit state, once the bank has ever set a limit. */
  limit?: { dailyLimit: bigint; spentToday: bigint; day: bigint };
}

/** A bank's money in one currency, rebuilt from events, with the flows that make it up. */
export interface ReplayedPosition {
  bank: number;
  currency: number;
  reserves: bigint;
  deposits: bigint;
  reservesIssued: bigint;
  reservesRedeemed: bigint;
  depositsIssued: bigint;
  depositsRedeemed: bigint;
  settledIn: bigint;
  settledOut: bigint;
  /** Deposits its customers paid away in cross-currency payments (the pay leg, in this currency). */
  fxPaid: bigint;
  /** Deposits its customers received from cross-currency payments (the receive leg, in this currency). */
  fxReceived: bigint;
}

/** A currency's totals over all banks, rebuilt from issuance and redemption events. */
export interface ReplayedSupply {
  currency: number;
  reservesIssued: bigint;
  reservesRedeemed: bigint;
  depositsIssued: bigint;
  depositsRedeemed: bigint;
  /** Deposits created in this currency by cross-currency payments into it (the ledger's `getSupply` counts them). */
  fxIn: bigint;
  /** Deposits destroyed in this currency by cross-currency payments out of it. */
  fxOut: bigint;
}

/** A reserve leg a cross-currency payment owes: it moves reserves only, the deposits moved with the payment. */
interface ReserveOnlyLeg {
  transactionHash: Hex;
  from: number;
  to: number;
  currency: number;
}

/** A registered bank, rebuilt from registry events. */
export interface ReplayedBank {
  id: number;
  status: number;
  admin: Address;
  bic: Hex;
  name: string;
}

const BANK_STATUS_ACTIVE = 1;
const SECONDS_PER_DAY = 86_400n;

/**
 * The ledger and registry state rebuilt from events alone: accounts, bank positions, currency totals,
 * banks, caps, relayers, roles, the pause. It mirrors the contracts' rules, so an event that could not
 * have happened (a balance below zero, an account at two banks, a payment over a cap) is reported as a
 * failure of `events.consistent` with the event as evidence.
 *
 * @example
 * const replay = new LedgerReplay(findings);
 * for (const event of events) replay.apply(event);
 * replay.position(1, 156)?.reserves;
 */
export class LedgerReplay {
  readonly accounts = new Map<string, ReplayedAccount>();
  readonly positions = new Map<string, ReplayedPosition>();
  readonly supplies = new Map<number, ReplayedSupply>();
  readonly banks = new Map<number, ReplayedBank>();
  readonly currencies = new Map<number, { listed: boolean; enabled: boolean; exponent: number }>();
  readonly bankLimits = new Map<
    string,
    { bank: number; currency: number; debitCap: bigint; maxPayment: bigint }
  >();
  /** Every address ever made a relayer, with the bank it relays for now (0 once removed). */
  readonly relayers = new Map<Address, number>();
  /** Every address ever made a bank admin, with the bank it administers now (0 once replaced). */
  readonly admins = new Map<Address, number>();
  /** Every (role, account) pair ever granted, with whether it holds now. */
  readonly roles = new Map<string, { role: Hex; account: Address; held: boolean }>();
  paused = false;
  /** Payee credits of the open batch: the ledger applies them when the batch ends, not per payment. */
  #pendingCredits: { account: ReplayedAccount; amount: bigint }[] = [];
  /** The reserve legs the last `CrossCurrencySettled` announced, until its `InterbankSettled` events arrive. */
  #reserveOnlyLegs: ReserveOnlyLeg[] = [];
  readonly #findings: FindingCollector;

  constructor(findings: FindingCollector) {
    this.#findings = findings;
  }

  /** A customer account, created empty on first sight. */
  account(address: Address, currency: number): ReplayedAccount {
    const key = `${currency}:${address.toLowerCase()}`;
    let account = this.accounts.get(key);
    if (account === undefined) {
      account = {
        address: address.toLowerCase() as Address,
        currency,
        bank: 0,
        balance: 0n,
        frozen: false,
        limited: false,
        nonces: new NonceSet(),
      };
      this.accounts.set(key, account);
    }
    return account;
  }

  /** A bank's position in a currency, created empty on first sight. */
  position(bank: number, currency: number): ReplayedPosition {
    const key = `${bank}:${currency}`;
    let position = this.positions.get(key);
    if (position === undefined) {
      position = {
        bank,
        currency,
        reserves: 0n,
        deposits: 0n,
        reservesIssued: 0n,
        reservesRedeemed: 0n,
        depositsIssued: 0n,
        depositsRedeemed: 0n,
        settledIn: 0n,
        settledOut: 0n,
        fxPaid: 0n,
        fxReceived: 0n,
      };
      this.positions.set(key, position);
    }
    return position;
  }

  supply(currency: number): ReplayedSupply {
    let supply = this.supplies.get(currency);
    if (supply === undefined) {
      supply = {
        currency,
        reservesIssued: 0n,
        reservesRedeemed: 0n,
        depositsIssued: 0n,
        depositsRedeemed: 0n,
        fxIn: 0n,
        fxOut: 0n,
      };
      this.supplies.set(currency, supply);
    }
    return supply;
  }

  /** Whether `address` was an enabled relayer of `bank` at this point of the history. */
  isRelayerOf(address: Address, bank: number): boolean {
    return this.relayers.get(address.toLowerCase() as Address) === bank;
  }

  /** A bank's caps in a currency at this point of the history (zero caps when never set). */
  limits(bank: number, currency: number): { debitCap: bigint; maxPayment: bigint } {
    return this.bankLimits.get(`${bank}:${currency}`) ?? { debitCap: 0n, maxPayment: 0n };
  }

  /** Marks a nonce used by a settled payment or refund found in calldata. */
  useNonce(address: Address, currency: number, nonce: bigint, at: Evidence): void {
    if (!this.account(address, currency).nonces.use(nonce)) {
      this.#inconsistent(at, "a settled item used a nonce that was already used", {
        account: address,
        currency: String(currency),
        nonce: String(nonce),
      });
    }
  }

  /** Applies one event to the rebuilt state. */
  apply(event: AuditEvent): void {
    const reserveOnlyLegs = this.#reserveOnlyLegs;
    this.#reserveOnlyLegs = [];
    if (event.contract === "registry") {
      this.#applyRegistry(event);
      return;
    }
    // The FX module's own events (quote use, skipped payments) move no money; the ledger's events do.
    if (event.contract === "fx") return;
    const at = event.at;
    switch (event.eventName) {
      case "ReservesIssued": {
        const { bankId, currency, amount } = event.args;
        this.position(bankId, currency).reserves += amount;
        this.position(bankId, currency).reservesIssued += amount;
        this.supply(currency).reservesIssued += amount;
        break;
      }
      case "ReservesRedeemed": {
        const { bankId, currency, amount } = event.args;
        const position = this.position(bankId, currency);
        if (position.reserves < amount) {
          this.#inconsistent(at, "reserves redeemed beyond what the bank held", {
            bank: String(bankId),
            reserves: String(position.reserves),
            amount: String(amount),
          });
        }
        position.reserves -= amount;
        position.reservesRedeemed += amount;
        this.supply(currency).reservesRedeemed += amount;
        break;
      }
      case "AccountOpened": {
        const account = this.account(event.args.account, event.args.currency);
        if (account.bank !== 0) {
          this.#inconsistent(at, "account opened while open at a bank", {
            account: account.address,
            bank: String(account.bank),
          });
        }
        account.bank = event.args.bankId;
        break;
      }
      case "AccountClosed": {
        const account = this.#customer(event.args.account, event.args.currency, event.args.bankId, at);
        if (account.balance !== 0n) {
          this.#inconsistent(at, "account closed with a balance", {
            account: account.address,
            balance: String(account.balance),
          });
        }
        account.bank = 0;
        account.limited = false;
        if (account.limit !== undefined) account.limit = { dailyLimit: 0n, spentToday: 0n, day: 0n };
        break;
      }
      case "DepositsIssued": {
        const { account: address, currency, bankId, amount } = event.args;
        this.#customer(address, currency, bankId, at).balance += amount;
        this.position(bankId, currency).deposits += amount;
        this.position(bankId, currency).depositsIssued += amount;
        this.supply(currency).depositsIssued += amount;
        break;
      }
      case "DepositsRedeemed": {
        const { account: address, currency, bankId, amount } = event.args;
        this.#debit(this.#customer(address, currency, bankId, at), amount, at);
        this.position(bankId, currency).deposits -= amount;
        this.position(bankId, currency).depositsRedeemed += amount;
        this.supply(currency).depositsRedeemed += amount;
        break;
      }
      case "AccountFrozen":
        this.account(event.args.account, event.args.currency).frozen = event.args.frozen;
        break;
      case "CustomerLimitSet": {
        const account = this.account(event.args.account, event.args.currency);
        account.limit = {
          ...(account.limit ?? { spentToday: 0n, day: 0n }),
          dailyLimit: event.args.dailyLimit,
        };
        account.limited = event.args.dailyLimit !== 0n;
        break;
      }
      case "ForcedTransfer": {
        const { from, to, currency, fromBank, toBank, amount } = event.args;
        this.#debit(this.#customer(from, currency, fromBank, at), amount, at);
        this.#customer(to, currency, toBank, at).balance += amount;
        break;
      }
      case "InterbankSettled": {
        const { fromBank, toBank, currency, amount } = event.args;
        const from = this.position(fromBank, currency);
        const to = this.position(toBank, currency);
        from.reserves -= amount;
        to.reserves += amount;
        const fxLeg = reserveOnlyLegs.findIndex(
          (leg) =>
            leg.transactionHash === at.transactionHash &&
            leg.from === fromBank &&
            leg.to === toBank &&
            leg.currency === currency,
        );
        if (fxLeg >= 0) {
          // A cross-currency leg: the deposits already moved with the payment, on each side in its currency.
          reserveOnlyLegs.splice(fxLeg, 1);
          this.#reserveOnlyLegs = reserveOnlyLegs;
        } else {
          from.deposits -= amount;
          from.settledOut += amount;
          to.deposits += amount;
          to.settledIn += amount;
        }
        const floor = -this.limits(fromBank, currency).debitCap;
        if (from.reserves < floor) {
          this.#inconsistent(at, "reserves went below the bank's debit cap", {
            bank: String(fromBank),
            reserves: String(from.reserves),
            debitCap: String(-floor),
          });
        }
        if (from.deposits < 0n) {
          this.#inconsistent(at, "a bank's deposits went below zero", {
            bank: String(fromBank),
            deposits: String(from.deposits),
          });
        }
        break;
      }
      case "PaymentSettled":
        this.#applyPayment(event.args, event.timestamp, at);
        break;
      case "CrossCurrencySettled":
        this.#applyCrossCurrency(event.args, event.timestamp, at);
        break;
      case "BatchSettled":
        for (const { account, amount } of this.#pendingCredits) account.balance += amount;
        this.#pendingCredits = [];
        break;
      case "PaymentRefunded": {
        const { payer, payee, amount, payerBank, payeeBank, currency } = event.args;
        this.#debit(this.#customer(payee, currency, payeeBank, at), amount, at);
        this.#customer(payer, currency, payerBank, at).balance += amount;
        break;
      }
      case "NonceCancelled":
        if (!this.account(event.args.account, event.args.currency).nonces.use(event.args.nonce)) {
          this.#inconsistent(at, "a nonce was cancelled twice", { nonce: String(event.args.nonce) });
        }
        break;
      case "NoncesInvalidated":
        this.account(event.args.account, event.args.currency).nonces.invalidateBelow(event.args.newBase);
        break;
      case "PaymentRejected":
      case "RefundRejected":
        // Skipped items change nothing; the calldata checks confirm their verdicts.
        break;
    }
  }

  #applyPayment(
    args: { payer: Address; payee: Address; terms: bigint },
    timestamp: number,
    at: Evidence,
  ): void {
    const { amount, payerBank, payeeBank, currency } = decodePaymentTerms(args.terms);
    const payer = this.#customer(args.payer, currency, payerBank, at);
    const payee = this.#customer(args.payee, currency, payeeBank, at);
    this.#checkTransferRules({
      payer,
      payee,
      payerBank,
      banks: [payerBank, payeeBank],
      amount,
      timestamp,
      at,
    });
    this.#debit(payer, amount, at);
    this.#pendingCredits.push({ account: payee, amount });
  }

  /**
   * A cross-currency payment, as `SettlementLedger.settleCrossCurrency` applies it: the payer's deposit in
   * the pay currency down, the payee's in the receive currency up at once, each bank's deposits with them,
   * and the currencies' deposit totals when they differ. Its reserve legs follow as `InterbankSettled`.
   */
  #applyCrossCurrency(
    args: { payer: Address; payee: Address; payTerms: bigint; receiveTerms: bigint },
    timestamp: number,
    at: Evidence,
  ): void {
    const pay = decodePaymentTerms(args.payTerms);
    const receive = decodePaymentTerms(args.receiveTerms);
    const payerBank = pay.payerBank;
    const providerBank = pay.payeeBank;
    const payeeBank = receive.payeeBank;
    const payer = this.#customer(args.payer, pay.currency, payerBank, at);
    const payee = this.#customer(args.payee, receive.currency, payeeBank, at);
    this.#checkTransferRules({
      payer,
      payee,
      payerBank,
      banks: [payerBank, providerBank, payeeBank],
      amount: pay.amount,
      timestamp,
      at,
    });
    if (receive.payerBank !== providerBank) {
      this.#inconsistent(at, "a cross-currency payment's two legs name different providers", {
        payLegProvider: String(providerBank),
        receiveLegProvider: String(receive.payerBank),
      });
    }
    this.#debit(payer, pay.amount, at);
    payee.balance += receive.amount;
    const paying = this.position(payerBank, pay.currency);
    paying.deposits -= pay.amount;
    paying.fxPaid += pay.amount;
    const receiving = this.position(payeeBank, receive.currency);
    receiving.deposits += receive.amount;
    receiving.fxReceived += receive.amount;
    if (pay.currency !== receive.currency) {
      this.supply(pay.currency).fxOut += pay.amount;
      this.supply(receive.currency).fxIn += receive.amount;
    }
    this.#reserveOnlyLegs = [
      { transactionHash: at.transactionHash, from: payerBank, to: providerBank, currency: pay.currency },
      { transactionHash: at.transactionHash, from: providerBank, to: payeeBank, currency: receive.currency },
    ].filter((leg) => leg.from !== leg.to);
  }

  /** The ledger's rules for moving a customer's money: who may pay, whom, how much, and when. */
  #checkTransferRules(transfer: {
    payer: ReplayedAccount;
    payee: ReplayedAccount;
    payerBank: number;
    /** Every bank the transfer touches: payer's, (provider's,) payee's. */
    banks: number[];
    amount: bigint;
    timestamp: number;
    at: Evidence;
  }): void {
    const { payer, payee, payerBank, amount, timestamp, at } = transfer;
    const broken = (rule: string, details: Record<string, string> = {}): void => {
      this.#findings.fail({
        check: "events.consistent",
        message: `a payment settled against the ledger's rules: ${rule}`,
        evidence: at,
        details: { payer: payer.address, ...details },
      });
    };
    this.#findings.examined("events.consistent");
    if (payer.frozen) broken("the payer's account was frozen");
    if (payee.frozen) broken("the payee's account was frozen");
    if (this.paused) broken("the network was paused");
    for (const bank of transfer.banks) {
      if (this.banks.get(bank)?.status !== BANK_STATUS_ACTIVE) {
        broken(
          bank === payerBank
            ? "the payer's bank was not active"
            : "the payee's or provider's bank was not active",
          { bank: String(bank) },
        );
      }
    }
    for (const currency of new Set([payer.currency, payee.currency])) {
      if (this.currencies.get(currency)?.enabled !== true) broken("the currency was not enabled");
    }
    const { maxPayment } = this.limits(payerBank, payer.currency);
    if (maxPayment !== 0n && amount > maxPayment) {
      broken("the amount exceeds the bank's single-payment cap", {
        amount: String(amount),
        maxPayment: String(maxPayment),
      });
    }
    if (payer.limited && payer.limit !== undefined) {
      const day = BigInt(timestamp) / SECONDS_PER_DAY;
      const spent = payer.limit.day === day ? payer.limit.spentToday + amount : amount;
      if (spent > payer.limit.dailyLimit) {
        broken("the payer's daily limit was exceeded", {
          spent: String(spent),
          dailyLimit: String(payer.limit.dailyLimit),
        });
      }
      payer.limit = { ...payer.limit, spentToday: spent, day };
    }
  }

  #applyRegistry(event: AuditEvent & { contract: "registry" }): void {
    switch (event.eventName) {
      case "CurrencyAdded":
        this.currencies.set(event.args.currency, {
          listed: true,
          enabled: true,
          exponent: event.args.exponent,
        });
        break;
      case "CurrencyStatusChanged": {
        const currency = this.currencies.get(event.args.currency);
        if (currency !== undefined) currency.enabled = event.args.enabled;
        break;
      }
      case "BankRegistered": {
        const { bankId, bic, name, admin } = event.args;
        this.banks.set(bankId, { id: bankId, status: BANK_STATUS_ACTIVE, admin, bic, name });
        this.admins.set(admin.toLowerCase() as Address, bankId);
        break;
      }
      case "BankStatusChanged": {
        const bank = this.banks.get(event.args.bankId);
        if (bank !== undefined) bank.status = event.args.status;
        break;
      }
      case "BankAdminChanged": {
        const bank = this.banks.get(event.args.bankId);
        if (bank !== undefined) bank.admin = event.args.newAdmin;
        this.admins.set(event.args.previousAdmin.toLowerCase() as Address, 0);
        this.admins.set(event.args.newAdmin.toLowerCase() as Address, event.args.bankId);
        break;
      }
      case "RelayerSet":
        this.relayers.set(
          event.args.relayer.toLowerCase() as Address,
          event.args.enabled ? event.args.bankId : 0,
        );
        break;
      case "BankLimitsSet": {
        const { bankId: bank, currency, debitCap, maxPayment } = event.args;
        this.bankLimits.set(`${bank}:${currency}`, { bank, currency, debitCap, maxPayment });
        break;
      }
      case "RoleGranted":
      case "RoleRevoked": {
        const { role, account } = event.args;
        this.roles.set(`${role}:${account.toLowerCase()}`, {
          role,
          account,
          held: event.eventName === "RoleGranted",
        });
        break;
      }
      case "Paused":
        this.paused = true;
        break;
      case "Unpaused":
        this.paused = false;
        break;
      default:
        // Role admin and default-admin handover schedules change no balance; the controls list shows them.
        break;
    }
  }

  /** The account, checked to be open at `bank` as the event claims. */
  #customer(address: Address, currency: number, bank: number, at: Evidence): ReplayedAccount {
    const account = this.account(address, currency);
    if (account.bank !== bank) {
      this.#inconsistent(at, "an event moved money of an account at another bank, or not open", {
        account: account.address,
        currency: String(currency),
        eventBank: String(bank),
        accountBank: String(account.bank),
      });
    }
    return account;
  }

  #debit(account: ReplayedAccount, amount: bigint, at: Evidence): void {
    if (account.balance < amount) {
      this.#inconsistent(at, "an account paid more than its balance", {
        account: account.address,
        balance: String(account.balance),
        amount: String(amount),
      });
    }
    account.balance -= amount;
  }

  #inconsistent(at: Evidence, message: string, details: Record<string, string>): void {
    this.#findings.fail({ check: "events.consistent", message, evidence: at, details });
  }
}
