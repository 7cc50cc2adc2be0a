// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {SettlementLedger} from "../../../contracts/SettlementLedger.sol";
import {Payment} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {BatchEncoder, SignedPayment} from "./BatchEncoder.sol";

/// @notice A customer a handler can act for: its key signs payments and refunds.
struct Customer {
    address addr;
    uint16 bank;
    uint256 key;
}

/// @notice The keys a handler acts with; `admins[i]` and `relayers[i]` serve bank `i + 1`.
struct Network {
    SettlementLedger ledger;
    address agent;
    address[] admins;
    address[] relayers;
    uint16[] currencies;
}

/// @notice How far a handler's random actions reach.
struct Limits {
    /// @dev The most one issuance adds.
    uint256 maxIssue;
    /// @dev A cap on a valid same-currency payment, which otherwise pays up to half the payer's balance.
    uint256 maxPayment;
    /// @dev The most one `warp` moves time.
    uint256 maxWarp;
}

/// @notice What the ledger's invariant handlers share: the network and its customers, the ghost books of
/// issuance, redemption and settled ids, the issuance and redemption actions that keep those books, and the
/// building and checking of same-currency batches. Every balance change a handler's call cannot explain by
/// its events is counted in `unexplainedChanges`.
abstract contract InvariantHandler is CommonBase, StdUtils {
    /// @dev Balances of customers and positions of banks, laid out by the handler's `_snapshot`.
    struct Snapshot {
        uint256[] balances;
        int256[] reserves;
        uint256[] deposits;
    }

    /// @dev The changes a call's events account for, indexed like a snapshot.
    struct Expected {
        int256[] balances;
        int256[] reserves;
        int256[] deposits;
    }

    /// @dev A same-currency batch by customers of one bank, encoded for `settlePayments`.
    struct Batch {
        uint16 currency;
        uint16 bank;
        SignedPayment[] payments;
        /// @dev Each payment's id.
        bytes32[] ids;
        /// @dev Whether each payment's nonce was used before the batch.
        bool[] nonceUsedBefore;
        bytes payees;
        bytes items;
    }

    error NoCustomerAt(uint16 bank);

    SettlementLedger internal ledger;
    address internal agent;
    address[] internal admins;
    address[] internal relayers;
    uint16[] internal currencyList;
    Customer[] internal customers;
    /// @dev One more than the customer's index, so that 0 means "not a customer".
    mapping(address => uint256) internal customerSlot;
    Limits private limits;

    mapping(uint16 currency => uint256) public reservesIssued;
    mapping(uint16 currency => uint256) public reservesRedeemed;
    mapping(uint16 currency => uint256) public depositsIssued;
    mapping(uint16 currency => uint256) public depositsRedeemed;

    bytes32[] public settledIds;
    mapping(bytes32 paymentId => uint256) public settleCount;

    uint256 public unexplainedChanges;

    constructor(Network memory network, Customer[] memory customers_, Limits memory limits_) {
        ledger = network.ledger;
        agent = network.agent;
        admins = network.admins;
        relayers = network.relayers;
        currencyList = network.currencies;
        limits = limits_;
        for (uint256 i; i < customers_.length; ++i) {
            customers.push(customers_[i]);
            customerSlot[customers_[i].addr] = i + 1;
        }
        // What the fixture issued before the handler took over counts as issued.
        for (uint256 c; c < currencyList.length; ++c) {
            uint16 currency = currencyList[c];
            reservesIssued[currency] = ledger.getSupply(currency).reserves;
            depositsIssued[currency] = ledger.getSupply(currency).deposits;
        }
    }

    // ─────────────────────────────────────────── Actions ────────────────────────────────────────

    function issueReserves(uint256 bankSeed, uint256 currencySeed, uint256 amount) external {
        uint16 currency = _currency(currencySeed);
        amount = bound(amount, 1, limits.maxIssue);
        vm.prank(agent);
        ledger.issueReserves(_bank(bankSeed), currency, amount);
        reservesIssued[currency] += amount;
    }

    function redeemReserves(uint256 bankSeed, uint256 currencySeed, uint256 amount) external {
        uint16 currency = _currency(currencySeed);
        uint16 bank = _bank(bankSeed);
        (int256 reserves, ) = ledger.getPosition(bank, currency);
        if (reserves <= 0) return;
        amount = bound(amount, 1, uint256(reserves));
        vm.prank(agent);
        ledger.redeemReserves(bank, currency, amount);
        reservesRedeemed[currency] += amount;
    }

    /// @notice Issues deposits to a customer; a frozen account takes none.
    function issueDeposits(uint256 customerSeed, uint256 currencySeed, uint256 amount) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        if (ledger.getAccount(c.addr, currency).frozen) return;
        amount = bound(amount, 1, limits.maxIssue);
        vm.prank(admins[c.bank - 1]);
        ledger.issueDeposits(c.addr, currency, amount);
        depositsIssued[currency] += amount;
    }

    /// @notice Redeems part of a customer's deposits; a frozen account redeems none.
    function redeemDeposits(uint256 customerSeed, uint256 currencySeed, uint256 amount) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        uint256 balance = ledger.balanceOf(c.addr, currency);
        if (balance == 0 || ledger.getAccount(c.addr, currency).frozen) return;
        amount = bound(amount, 1, balance);
        vm.prank(admins[c.bank - 1]);
        ledger.redeemDeposits(c.addr, currency, amount);
        depositsRedeemed[currency] += amount;
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, limits.maxWarp));
    }

    // ─────────────────────────────────────────── Views ──────────────────────────────────────────

    function settledCount() external view returns (uint256) {
        return settledIds.length;
    }

    function customerCount() external view returns (uint256) {
        return customers.length;
    }

    function customerAt(uint256 i) external view returns (Customer memory) {
        return customers[i];
    }

    function currencies() external view returns (uint16[] memory) {
        return currencyList;
    }

    function bankCount() external view returns (uint16) {
        return uint16(relayers.length);
    }

    // ─────────────────────────────────── Same-currency batches ──────────────────────────────────

    /// @dev `size` payments in a currency picked by `seed`, by customers of a bank picked by `seed >> 8`.
    function _makeBatch(uint256 seed, uint256 size) internal view returns (Batch memory b) {
        b.currency = _currency(seed);
        b.bank = _bank(seed >> 8);
        b.payments = new SignedPayment[](size);
        b.ids = new bytes32[](size);
        b.nonceUsedBefore = new bool[](size);
        for (uint256 i; i < size; ++i) {
            SignedPayment memory item = _makeItem(
                uint256(keccak256(abi.encode(seed, i))),
                b.bank,
                b.currency
            );
            b.payments[i] = item;
            b.ids[i] = ledger.hashPayment(item.payment);
            b.nonceUsedBefore[i] = ledger.isNonceUsed(item.payment.payer, b.currency, item.payment.nonce);
        }
        (b.payees, b.items) = BatchEncoder.encode(b.payments);
    }

    /// @dev Mostly a valid payment; kind 4 is signed by the wrong key, kind 5 expired, kind 6 beyond the
    /// payer's balance, kind 7 a replay of one that already settled (where there is one).
    function _makeItem(uint256 s, uint16 bank, uint16 currency) private view returns (SignedPayment memory) {
        uint256 kind = s % 8;
        if (kind == 7) {
            (bool found, SignedPayment memory replay) = _findReplay(s >> 8, bank, currency);
            if (found) return replay;
            kind = 0;
        }
        Customer memory payer = _customerAt(bank, s >> 16);
        Customer memory payee = _customer(s >> 24);
        uint256 balance = ledger.balanceOf(payer.addr, currency);
        uint256 amount =
            kind == 6
                ? balance + 1 + ((s >> 32) % 1_000)
                : bound(s >> 32, 1, _min(balance / 2 + 1, limits.maxPayment));
        Payment memory p = Payment({
            payer: payer.addr,
            payee: payee.addr,
            payeeBank: (s >> 72) % 16 == 0 ? _bank(s >> 80) : payee.bank,
            currency: currency,
            amount: amount,
            qrHash: keccak256(abi.encode("qr", s)),
            nonce: ledger.getAccount(payer.addr, currency).nonceBase + ((s >> 88) % 8),
            deadline: kind == 5 ? block.timestamp - 1 : block.timestamp + 1 hours
        });
        uint256 key = kind == 4 ? _otherKey(payer.key) : payer.key;
        (bytes32 r, bytes32 vs) = vm.signCompact(key, ledger.hashPayment(p));
        return SignedPayment({payment: p, kind: 0, signature: abi.encodePacked(r, vs)});
    }

    /// @dev A payment that already settled, by a customer of `bank` in `currency`, exactly as it was signed.
    function _findReplay(
        uint256 start,
        uint16 bank,
        uint16 currency
    ) internal view virtual returns (bool found, SignedPayment memory replay);

    /// @dev Counts a settlement of `paymentId`, listing the id on its first; returns whether it was the first.
    function _countSettled(bytes32 paymentId) internal returns (bool first) {
        first = ++settleCount[paymentId] == 1;
        if (first) settledIds.push(paymentId);
    }

    // ─────────────────────────────────────────── Checks ─────────────────────────────────────────

    function _checkExplained(
        Snapshot memory before,
        Snapshot memory afterwards,
        Expected memory expected
    ) internal {
        for (uint256 i; i < before.balances.length; ++i) {
            if (int256(afterwards.balances[i]) - int256(before.balances[i]) != expected.balances[i]) {
                ++unexplainedChanges;
            }
        }
        for (uint256 b; b < before.reserves.length; ++b) {
            if (afterwards.reserves[b] - before.reserves[b] != expected.reserves[b]) ++unexplainedChanges;
            if (int256(afterwards.deposits[b]) - int256(before.deposits[b]) != expected.deposits[b]) {
                ++unexplainedChanges;
            }
        }
    }

    /// @dev A rejected item of `b` leaves its nonce as it was, unless a `settled` item used the same one.
    function _checkRejectedNoncesUntouched(Batch memory b, bytes32[] memory settled) internal {
        for (uint256 i; i < b.payments.length; ++i) {
            Payment memory p = b.payments[i].payment;
            if (b.nonceUsedBefore[i] || _contains(settled, b.ids[i]) || _nonceSettled(b, settled, i))
                continue;
            if (ledger.isNonceUsed(p.payer, p.currency, p.nonce)) ++unexplainedChanges;
        }
    }

    function _nonceSettled(Batch memory b, bytes32[] memory settled, uint256 i) private pure returns (bool) {
        Payment memory p = b.payments[i].payment;
        for (uint256 j; j < b.payments.length; ++j) {
            Payment memory other = b.payments[j].payment;
            if (other.payer == p.payer && other.nonce == p.nonce && _contains(settled, b.ids[j])) return true;
        }
        return false;
    }

    // ─────────────────────────────────────────── Helpers ────────────────────────────────────────

    /// @dev 65-byte r ‖ s ‖ v signature of `digest`.
    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev A customer's key that is not `key`.
    function _otherKey(uint256 key) internal view returns (uint256) {
        return key == customers[0].key ? customers[1].key : customers[0].key;
    }

    function _contains(bytes32[] memory list, bytes32 id) internal pure returns (bool) {
        for (uint256 i; i < list.length; ++i) if (list[i] == id) return true;
        return false;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    // ─────────────────────────────────────────── Picking ────────────────────────────────────────

    function _currency(uint256 seed) internal view returns (uint16) {
        return currencyList[seed % currencyList.length];
    }

    function _bank(uint256 seed) internal view returns (uint16) {
        return uint16(1 + (seed % relayers.length));
    }

    function _customer(uint256 seed) internal view returns (Customer memory) {
        return customers[seed % customers.length];
    }

    /// @dev A customer of `bank`; every bank has at least one.
    function _customerAt(uint16 bank, uint256 seed) internal view returns (Customer memory) {
        uint256 start = seed % customers.length;
        for (uint256 i; i < customers.length; ++i) {
            Customer memory c = customers[(start + i) % customers.length];
            if (c.bank == bank) return c;
        }
        revert NoCustomerAt(bank);
    }
}
