// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";

import {SettlementLedger} from "../../../contracts/SettlementLedger.sol";
import {
    ISettlementLedger,
    Payment,
    Refund,
    RefundRequest,
    Supply
} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {BatchEncoder, SignedPayment} from "../utils/BatchEncoder.sol";
import {LedgerTest} from "../utils/LedgerTest.sol";
import {MerkleTree} from "../utils/MerkleTree.sol";

/// @notice A customer the handler can act for: its key signs payments and refunds.
struct Customer {
    address addr;
    uint16 bank;
    uint256 key;
}

/// @notice The keys the handler acts with; `admins[i]` and `relayers[i]` serve bank `i + 1`.
struct Network {
    SettlementLedger ledger;
    address agent;
    address enforcer;
    address freezer;
    address[] admins;
    address[] relayers;
    uint16[] currencies;
}

/// @notice Drives the ledger through random sequences of payments (valid and broken), refunds, issuance,
/// redemption, forced transfers, freezes, nonce cancellations and time, keeping ghost books the invariants
/// compare with the ledger. Every balance change of a settle, refund or forced transfer must be explained by
/// the events it emitted; anything else is counted in `unexplainedChanges`.
contract LedgerHandler is CommonBase, StdUtils {
    /// @dev What the handler remembers of each settled payment, to replay and refund it.
    struct Settled {
        Payment payment;
        bytes signature;
        uint256 batch;
        uint256 index;
    }

    /// @dev Balances of every customer and positions of every bank in one currency.
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

    error NoCustomerAt(uint16 bank);

    uint256 private constant MAX_BATCH = 5;
    uint256 private constant MAX_ISSUE = 1e12;
    bytes32 private constant CASE = keccak256("invariant case");

    SettlementLedger private ledger;
    address private agent;
    address private enforcer;
    address private freezer;
    address[] private admins;
    address[] private relayers;
    uint16[] private currencyList;
    Customer[] private customers;
    mapping(address => uint256) private customerSlot;

    mapping(uint16 currency => uint256) public reservesIssued;
    mapping(uint16 currency => uint256) public reservesRedeemed;
    mapping(uint16 currency => uint256) public depositsIssued;
    mapping(uint16 currency => uint256) public depositsRedeemed;

    bytes32[] public settledIds;
    mapping(bytes32 paymentId => uint256) public settleCount;
    mapping(bytes32 paymentId => uint256) public refundedByEvents;
    mapping(bytes32 paymentId => Settled) private settledPayments;
    bytes32[][] private batchLeaves;

    uint256 public unexplainedChanges;
    uint256 public rootMismatches;

    constructor(Network memory network, Customer[] memory customers_) {
        ledger = network.ledger;
        agent = network.agent;
        enforcer = network.enforcer;
        freezer = network.freezer;
        admins = network.admins;
        relayers = network.relayers;
        currencyList = network.currencies;
        for (uint256 i; i < customers_.length; ++i) {
            customers.push(customers_[i]);
            customerSlot[customers_[i].addr] = i + 1;
        }
        // What the fixture issued before the handler took over counts as issued.
        for (uint256 i; i < currencyList.length; ++i) {
            uint16 currency = currencyList[i];
            reservesIssued[currency] = ledger.getSupply(currency).reserves;
            depositsIssued[currency] = ledger.getSupply(currency).deposits;
        }
    }

    // ─────────────────────────────────────────── Actions ────────────────────────────────────────

    /// @notice Settles a batch of up to five payments by customers of one bank: mostly valid, some signed by
    /// the wrong key, expired, beyond the payer's balance, or replays of payments that already settled.
    function settleBatch(uint256 seed, uint256 size) external {
        uint16 currency = _currency(seed);
        uint16 bank = uint16(1 + ((seed >> 8) % relayers.length));
        size = bound(size, 1, MAX_BATCH);
        SignedPayment[] memory batch = new SignedPayment[](size);
        for (uint256 i; i < size; ++i) {
            batch[i] = _makeItem(uint256(keccak256(abi.encode(seed, i))), bank, currency);
        }
        bytes32[] memory ids = new bytes32[](size);
        bool[] memory nonceUsedBefore = new bool[](size);
        for (uint256 i; i < size; ++i) {
            ids[i] = ledger.hashPayment(batch[i].payment);
            nonceUsedBefore[i] = ledger.isNonceUsed(batch[i].payment.payer, currency, batch[i].payment.nonce);
        }
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(batch);

        Snapshot memory before = _snapshot(currency);
        vm.recordLogs();
        vm.prank(relayers[bank - 1]);
        (, bytes32 root) = ledger.settlePayments(currency, payees, items);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        bytes32[] memory leaves = _applySettled(logs, expected, batch, ids);
        _checkExplained(before, _snapshot(currency), expected);
        _checkRejectedNoncesUntouched(batch, ids, leaves, nonceUsedBefore);
        if (leaves.length != 0 && MerkleTree.root(leaves) != root) ++rootMismatches;
        if (leaves.length != 0 && ledger.batchRootBank(root) != bank) ++rootMismatches;
    }

    /// @notice Refunds part or all of a settled payment, sometimes more than is left or with a broken proof.
    function refund(uint256 seed, uint256 amount) external {
        if (settledIds.length == 0) return;
        bytes32 paymentId = settledIds[seed % settledIds.length];
        Settled storage s = settledPayments[paymentId];
        Payment memory p = s.payment;
        RefundRequest memory request = _refundRequest(seed, amount, paymentId, s);

        Snapshot memory before = _snapshot(p.currency);
        vm.recordLogs();
        RefundRequest[] memory requests = new RefundRequest[](1);
        requests[0] = request;
        vm.prank(relayers[p.payeeBank - 1]);
        ledger.refundPayments(requests);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        _applyRefunded(logs, expected);
        _checkExplained(before, _snapshot(p.currency), expected);
    }

    function issueReserves(uint256 bankSeed, uint256 currencySeed, uint256 amount) external {
        uint16 currency = _currency(currencySeed);
        amount = bound(amount, 1, MAX_ISSUE);
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

    function issueDeposits(uint256 customerSeed, uint256 currencySeed, uint256 amount) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        if (ledger.getAccount(c.addr, currency).frozen) return;
        amount = bound(amount, 1, MAX_ISSUE);
        vm.prank(admins[c.bank - 1]);
        ledger.issueDeposits(c.addr, currency, amount);
        depositsIssued[currency] += amount;
    }

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

    function forceTransfer(uint256 fromSeed, uint256 toSeed, uint256 currencySeed, uint256 amount) external {
        Customer memory from = _customer(fromSeed);
        Customer memory to = _customer(toSeed);
        uint16 currency = _currency(currencySeed);
        uint256 balance = ledger.balanceOf(from.addr, currency);
        if (balance == 0 || ledger.getAccount(to.addr, currency).bankId == 0) return;
        amount = bound(amount, 1, balance);

        Snapshot memory before = _snapshot(currency);
        vm.recordLogs();
        vm.prank(enforcer);
        ledger.forceTransfer(from.addr, to.addr, currency, amount, CASE);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        _applyForced(logs, expected);
        _checkExplained(before, _snapshot(currency), expected);
    }

    function setFrozen(uint256 customerSeed, uint256 currencySeed, bool frozen) external {
        Customer memory c = _customer(customerSeed);
        vm.prank(freezer);
        ledger.setFrozen(c.addr, _currency(currencySeed), frozen);
    }

    function cancelNonce(uint256 customerSeed, uint256 currencySeed, uint256 offset) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        uint256 nonce = ledger.getAccount(c.addr, currency).nonceBase + (offset % 16);
        if (ledger.isNonceUsed(c.addr, currency, nonce)) return;
        vm.prank(c.addr);
        ledger.cancelNonce(currency, nonce);
    }

    function invalidateNonces(uint256 customerSeed, uint256 currencySeed, uint256 delta) external {
        Customer memory c = _customer(customerSeed);
        uint16 currency = _currency(currencySeed);
        vm.prank(c.addr);
        ledger.invalidateNonces(currency, ledger.getAccount(c.addr, currency).nonceBase + (delta % 8));
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 3 hours));
    }

    // ─────────────────────────────────────────── Views ──────────────────────────────────────────

    function settledCount() external view returns (uint256) {
        return settledIds.length;
    }

    function paymentAmount(bytes32 paymentId) external view returns (uint256) {
        return settledPayments[paymentId].payment.amount;
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

    // ──────────────────────────────────────── Building items ────────────────────────────────────

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
        uint256 amount = kind == 6 ? balance + 1 + ((s >> 32) % 1_000) : bound(s >> 32, 1, balance / 2 + 1);
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
        uint256 key = payer.key;
        if (kind == 4) key = key == customers[0].key ? customers[1].key : customers[0].key;
        (bytes32 r, bytes32 vs) = vm.signCompact(key, ledger.hashPayment(p));
        return SignedPayment({payment: p, kind: 0, signature: abi.encodePacked(r, vs)});
    }

    /// @dev A payment that already settled, by a customer of `bank` in `currency`, exactly as it was signed.
    function _findReplay(
        uint256 start,
        uint16 bank,
        uint16 currency
    ) private view returns (bool, SignedPayment memory replay) {
        uint256 count = settledIds.length;
        for (uint256 i; i < count; ++i) {
            Settled storage s = settledPayments[settledIds[(start + i) % count]];
            if (s.payment.currency != currency) continue;
            if (customers[customerSlot[s.payment.payer] - 1].bank != bank) continue;
            return (true, SignedPayment({payment: s.payment, kind: 0, signature: s.signature}));
        }
        return (false, replay);
    }

    function _refundRequest(
        uint256 seed,
        uint256 amount,
        bytes32 paymentId,
        Settled storage s
    ) private view returns (RefundRequest memory request) {
        Payment memory p = s.payment;
        uint256 mode = (seed >> 8) % 8;
        uint256 remaining = p.amount - ledger.refundedAmount(paymentId);
        request.payment = p;
        request.batchRoot = MerkleTree.root(batchLeaves[s.batch]);
        request.proof = MerkleTree.proof(batchLeaves[s.batch], s.index);
        if (mode == 6 && request.proof.length != 0) request.proof[0] = bytes32(uint256(request.proof[0]) ^ 1);
        request.amount = mode == 7 ? remaining + 1 + (amount % 1_000) : bound(amount, 1, remaining + 1);
        request.nonce = ledger.getAccount(p.payee, p.currency).nonceBase + ((seed >> 16) % 4);
        request.deadline = block.timestamp + 1 hours;
        bytes32 refundId = ledger.hashRefund(
            Refund(paymentId, request.amount, request.nonce, request.deadline)
        );
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(customers[customerSlot[p.payee] - 1].key, refundId);
        request.signature = abi.encodePacked(r, sig, v);
    }

    // ───────────────────────────────────────── Reading events ───────────────────────────────────

    /// @dev Books every `PaymentSettled` of the batch; returns the settled ids in order (the batch's leaves).
    function _applySettled(
        Vm.Log[] memory logs,
        Expected memory expected,
        SignedPayment[] memory batch,
        bytes32[] memory ids
    ) private returns (bytes32[] memory leaves) {
        leaves = new bytes32[](batch.length);
        uint256 count;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == ISettlementLedger.PaymentSettled.selector) {
                (bytes32 paymentId, , uint256 terms) = abi.decode(logs[i].data, (bytes32, bytes32, uint256));
                uint256 amount = uint96(terms);
                _move(expected, _topicAddress(logs[i], 1), _topicAddress(logs[i], 2), amount);
                _recordSettled(paymentId, batch, ids, count);
                leaves[count] = paymentId;
                ++count;
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                _moveInterbank(expected, logs[i]);
            }
        }
        assembly ("memory-safe") {
            mstore(leaves, count)
        }
        if (count != 0) batchLeaves.push(leaves);
    }

    function _recordSettled(
        bytes32 paymentId,
        SignedPayment[] memory batch,
        bytes32[] memory ids,
        uint256 index
    ) private {
        ++settleCount[paymentId];
        if (settleCount[paymentId] > 1) return;
        settledIds.push(paymentId);
        for (uint256 j; j < ids.length; ++j) {
            if (ids[j] != paymentId) continue;
            Settled storage s = settledPayments[paymentId];
            s.payment = batch[j].payment;
            s.signature = batch[j].signature;
            s.batch = batchLeaves.length;
            s.index = index;
            return;
        }
    }

    function _applyRefunded(Vm.Log[] memory logs, Expected memory expected) private {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == ISettlementLedger.PaymentRefunded.selector) {
                (, uint256 amount, , , ) = abi.decode(
                    logs[i].data,
                    (bytes32, uint256, uint16, uint16, uint16)
                );
                _move(expected, _topicAddress(logs[i], 3), _topicAddress(logs[i], 2), amount);
                refundedByEvents[logs[i].topics[1]] += amount;
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                _moveInterbank(expected, logs[i]);
            }
        }
    }

    function _applyForced(Vm.Log[] memory logs, Expected memory expected) private view {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == ISettlementLedger.ForcedTransfer.selector) {
                (, , uint256 amount, ) = abi.decode(logs[i].data, (uint16, uint16, uint256, bytes32));
                _move(expected, _topicAddress(logs[i], 1), _topicAddress(logs[i], 2), amount);
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                _moveInterbank(expected, logs[i]);
            }
        }
    }

    function _move(Expected memory expected, address from, address to, uint256 amount) private view {
        expected.balances[customerSlot[from] - 1] -= int256(amount);
        expected.balances[customerSlot[to] - 1] += int256(amount);
    }

    function _moveInterbank(Expected memory expected, Vm.Log memory log) private pure {
        uint256 fromBank = uint256(log.topics[1]);
        uint256 toBank = uint256(log.topics[2]);
        int256 amount = int256(abi.decode(log.data, (uint256)));
        expected.reserves[fromBank - 1] -= amount;
        expected.reserves[toBank - 1] += amount;
        expected.deposits[fromBank - 1] -= amount;
        expected.deposits[toBank - 1] += amount;
    }

    function _topicAddress(Vm.Log memory log, uint256 i) private pure returns (address) {
        return address(uint160(uint256(log.topics[i])));
    }

    // ─────────────────────────────────────────── Checks ─────────────────────────────────────────

    function _snapshot(uint16 currency) private view returns (Snapshot memory s) {
        s.balances = new uint256[](customers.length);
        for (uint256 i; i < customers.length; ++i)
            s.balances[i] = ledger.balanceOf(customers[i].addr, currency);
        s.reserves = new int256[](relayers.length);
        s.deposits = new uint256[](relayers.length);
        for (uint256 b; b < relayers.length; ++b) {
            (s.reserves[b], s.deposits[b]) = ledger.getPosition(uint16(b + 1), currency);
        }
    }

    function _emptyExpected() private view returns (Expected memory e) {
        e.balances = new int256[](customers.length);
        e.reserves = new int256[](relayers.length);
        e.deposits = new int256[](relayers.length);
    }

    function _checkExplained(
        Snapshot memory before,
        Snapshot memory afterwards,
        Expected memory expected
    ) private {
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

    /// @dev A rejected item leaves its nonce as it was, unless a settled item of the batch used the same one.
    function _checkRejectedNoncesUntouched(
        SignedPayment[] memory batch,
        bytes32[] memory ids,
        bytes32[] memory leaves,
        bool[] memory nonceUsedBefore
    ) private {
        for (uint256 i; i < batch.length; ++i) {
            Payment memory p = batch[i].payment;
            if (nonceUsedBefore[i] || _contains(leaves, ids[i]) || _nonceSettled(batch, ids, leaves, i))
                continue;
            if (ledger.isNonceUsed(p.payer, p.currency, p.nonce)) ++unexplainedChanges;
        }
    }

    function _nonceSettled(
        SignedPayment[] memory batch,
        bytes32[] memory ids,
        bytes32[] memory leaves,
        uint256 i
    ) private pure returns (bool) {
        for (uint256 j; j < batch.length; ++j) {
            bool samePayerNonce =
                batch[j].payment.payer == batch[i].payment.payer &&
                    batch[j].payment.nonce == batch[i].payment.nonce;
            if (samePayerNonce && _contains(leaves, ids[j])) return true;
        }
        return false;
    }

    function _contains(bytes32[] memory list, bytes32 id) private pure returns (bool) {
        for (uint256 i; i < list.length; ++i) if (list[i] == id) return true;
        return false;
    }

    // ─────────────────────────────────────────── Picking ────────────────────────────────────────

    function _currency(uint256 seed) private view returns (uint16) {
        return currencyList[seed % currencyList.length];
    }

    function _bank(uint256 seed) private view returns (uint16) {
        return uint16(1 + (seed % relayers.length));
    }

    function _customer(uint256 seed) private view returns (Customer memory) {
        return customers[seed % customers.length];
    }

    /// @dev A customer of `bank`; every bank has at least one.
    function _customerAt(uint16 bank, uint256 seed) private view returns (Customer memory) {
        uint256 start = seed % customers.length;
        for (uint256 i; i < customers.length; ++i) {
            Customer memory c = customers[(start + i) % customers.length];
            if (c.bank == bank) return c;
        }
        revert NoCustomerAt(bank);
    }
}

/// @notice Value conservation and replay safety under random sequences of every ledger operation.
contract LedgerInvariantsTest is LedgerTest {
    LedgerHandler internal handler;

    function setUp() public override {
        super.setUp();

        Customer[] memory customers = new Customer[](6);
        customers[0] = Customer(alice.addr, bankA, alice.key);
        customers[1] = Customer(bob.addr, bankA, bob.key);
        customers[2] = Customer(mia.addr, bankA, mia.key);
        customers[3] = Customer(carol.addr, bankB, carol.key);
        customers[4] = Customer(max.addr, bankB, max.key);
        customers[5] = Customer(noor.addr, bankC, noor.key);
        address[] memory admins = new address[](3);
        (admins[0], admins[1], admins[2]) = (adminA, adminB, adminC);
        address[] memory relayers = new address[](3);
        (relayers[0], relayers[1], relayers[2]) = (relayerA, relayerB, relayerC);
        uint16[] memory currencies = new uint16[](2);
        (currencies[0], currencies[1]) = (CNY, HKD);

        handler = new LedgerHandler(
            Network({
                ledger: ledger,
                agent: agent,
                enforcer: enforcer,
                freezer: freezer,
                admins: admins,
                relayers: relayers,
                currencies: currencies
            }),
            customers
        );

        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = LedgerHandler.settleBatch.selector;
        selectors[1] = LedgerHandler.refund.selector;
        selectors[2] = LedgerHandler.issueReserves.selector;
        selectors[3] = LedgerHandler.redeemReserves.selector;
        selectors[4] = LedgerHandler.issueDeposits.selector;
        selectors[5] = LedgerHandler.redeemDeposits.selector;
        selectors[6] = LedgerHandler.forceTransfer.selector;
        selectors[7] = LedgerHandler.setFrozen.selector;
        selectors[8] = LedgerHandler.cancelNonce.selector;
        selectors[9] = LedgerHandler.invalidateNonces.selector;
        selectors[10] = LedgerHandler.warp.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Per currency: the banks' reserves add up to what the agent issued minus what it redeemed,
    /// which is the recorded supply.
    function invariantReservesConserved() public view {
        uint16[] memory currencies = handler.currencies();
        for (uint256 c; c < currencies.length; ++c) {
            uint16 currency = currencies[c];
            int256 sum;
            for (uint16 bank = 1; bank <= handler.bankCount(); ++bank) {
                (int256 reserves, ) = ledger.getPosition(bank, currency);
                sum += reserves;
            }
            uint256 net = handler.reservesIssued(currency) - handler.reservesRedeemed(currency);
            assertEq(sum, int256(net), "bank reserves != issued - redeemed");
            assertEq(ledger.getSupply(currency).reserves, net, "supply != issued - redeemed");
        }
    }

    /// @dev Per bank and currency, its customers' balances add up to its deposit position; over all banks
    /// they add up to the recorded supply, which is what the banks issued minus what they redeemed.
    function invariantDepositsConserved() public view {
        uint16[] memory currencies = handler.currencies();
        for (uint256 c; c < currencies.length; ++c) {
            uint16 currency = currencies[c];
            uint256 total;
            for (uint16 bank = 1; bank <= handler.bankCount(); ++bank) {
                uint256 customersHold;
                for (uint256 i; i < handler.customerCount(); ++i) {
                    Customer memory customer = handler.customerAt(i);
                    if (customer.bank == bank) customersHold += ledger.balanceOf(customer.addr, currency);
                }
                (, uint256 deposits) = ledger.getPosition(bank, currency);
                assertEq(customersHold, deposits, "customer balances != bank deposit position");
                total += deposits;
            }
            Supply memory supply = ledger.getSupply(currency);
            assertEq(total, supply.deposits, "bank deposits != supply");
            assertEq(supply.deposits, handler.depositsIssued(currency) - handler.depositsRedeemed(currency));
        }
    }

    /// @dev Replay safety: however often a signed payment is resubmitted, it settles once.
    function invariantNoPaymentSettlesTwice() public view {
        uint256 count = handler.settledCount();
        for (uint256 i; i < count; ++i) {
            assertEq(handler.settleCount(handler.settledIds(i)), 1, "payment settled more than once");
        }
    }

    /// @dev Every balance and position change of a settle, refund or forced transfer is one its events
    /// report: rejected items move nothing and leave their nonces unused.
    function invariantRejectedItemsChangeNothing() public view {
        assertEq(handler.unexplainedChanges(), 0);
    }

    /// @dev The ledger's batch roots commit to the settled ids, in order, as the relayer rebuilds them.
    function invariantBatchRootsMatchSettledIds() public view {
        assertEq(handler.rootMismatches(), 0);
    }

    /// @dev Refunds against a payment never total more than the payment, and the ledger's count agrees
    /// with the `PaymentRefunded` events.
    function invariantRefundsNeverExceedPayment() public view {
        uint256 count = handler.settledCount();
        for (uint256 i; i < count; ++i) {
            bytes32 paymentId = handler.settledIds(i);
            uint256 refunded = ledger.refundedAmount(paymentId);
            assertLe(refunded, handler.paymentAmount(paymentId), "refunds exceed the payment");
            assertEq(refunded, handler.refundedByEvents(paymentId), "refund total != events");
        }
    }
}
