// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {FxSettlement} from "../../../contracts/FxSettlement.sol";
import {
    FxPayment,
    FxPaymentRequest,
    FxQuote,
    IFxSettlement
} from "../../../contracts/interfaces/IFxSettlement.sol";
import {ISettlementLedger, Payment} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {SignedPayment} from "../utils/BatchEncoder.sol";
import {FxTest} from "../utils/FxTest.sol";
import {Customer, InvariantHandler, Limits, Network} from "../utils/InvariantHandler.sol";

/// @notice Drives the ledger and the FX module through random mixes of same-currency batches, cross-currency
/// payments (valid, mis-signed, mis-priced, replayed, beyond their quote or the payer's balance, at quotes
/// signed by strangers or out of their window), issuance, redemption and time. It keeps ghost books from the
/// events, and counts every balance or position change that the events of its call do not account for.
contract FxHandler is InvariantHandler {
    struct StoredQuote {
        FxQuote quote;
        bytes signature;
        bytes32 hash;
    }

    /// @dev One reserve move between two banks.
    struct Leg {
        uint16 from;
        uint16 to;
        uint16 currency;
        uint256 amount;
    }

    /// @dev What one FX call's logs say.
    struct FxOutcome {
        bytes32[] settled;
        uint256 settledCount;
        bytes32[] rejected;
        uint256 rejectedCount;
        Leg[] legs;
        uint256 legCount;
        Leg[] moves;
        uint256 moveCount;
    }

    uint256 private constant MAX_BATCH = 4;
    uint256 private constant MAX_FX_BATCH = 3;
    uint256 private constant MAX_RECEIVE = 1e8;
    uint256 private constant MAX_QUOTES = 16;

    FxSettlement private fx;
    uint256[] private deskKeys;
    mapping(uint16 => uint256) private currencySlot;
    uint256 private strangerKey;

    mapping(uint16 currency => uint256) public fxPaidOut;
    mapping(uint16 currency => uint256) public fxReceivedIn;

    Payment[] private settledPayments;
    bytes[] private settledSignatures;
    FxPaymentRequest[] private settledFx;
    StoredQuote[] private quotes;
    mapping(bytes32 quoteHash => uint256) public usedByEvents;

    uint256 public fxSettledTotal;
    uint256 public legMismatches;
    uint256 public quoteUseMismatches;
    uint256 public revertedCalls;

    /// @param deskKeys_ The key of each bank's FX desk, `deskKeys_[i]` of bank `i + 1`.
    constructor(
        Network memory network,
        Customer[] memory customers_,
        FxSettlement fx_,
        uint256[] memory deskKeys_,
        uint256 strangerKey_
    ) InvariantHandler(network, customers_, Limits({maxIssue: 1e10, maxPayment: 1e7, maxWarp: 2 hours})) {
        fx = fx_;
        deskKeys = deskKeys_;
        strangerKey = strangerKey_;
        for (uint256 c; c < currencyList.length; ++c) currencySlot[currencyList[c]] = c + 1;
    }

    // ─────────────────────────────────────────── Actions ────────────────────────────────────────

    /// @notice Settles a same-currency batch of up to four payments by customers of one bank: mostly valid,
    /// some signed by the wrong key, expired, beyond the payer's balance, or replays.
    function settleBatch(uint256 seed, uint256 size) external {
        Batch memory b = _makeBatch(seed, bound(size, 1, MAX_BATCH));

        Snapshot memory before = _snapshot();
        vm.recordLogs();
        vm.prank(relayers[b.bank - 1]);
        try ledger.settlePayments(b.currency, b.payees, b.items) {} catch {
            vm.getRecordedLogs();
            ++revertedCalls;
            return;
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        bytes32[] memory settled = _applyBatchLogs(logs, expected, b.payments, b.ids);
        _checkExplained(before, _snapshot(), expected);
        _checkRejectedNoncesUntouched(b, settled);
    }

    /// @notice Settles up to three cross-currency payments by customers of one bank, at new or earlier quotes
    /// of any provider: mostly valid, some mis-signed, mis-priced by one unit, replayed, beyond their quote or
    /// balance, or at a stranger's quote.
    function settleFx(uint256 seed, uint256 size) external {
        uint16 bank = _bank(seed);
        size = bound(size, 1, MAX_FX_BATCH);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](size);
        for (uint256 i; i < size; ++i) {
            batch[i] = _makeFxItem(uint256(keccak256(abi.encode(seed, i))), bank);
        }
        _runFx(bank, batch);
    }

    // ─────────────────────────────────────────── Views ──────────────────────────────────────────

    function quoteCount() external view returns (uint256) {
        return quotes.length;
    }

    function quoteAt(uint256 i) external view returns (bytes32 quoteHash, uint256 maxToAmount) {
        return (quotes[i].hash, quotes[i].quote.maxToAmount);
    }

    // ─────────────────────────────────── Building same-currency items ───────────────────────────

    /// @dev Replays are looked up among the same-currency payments that settled.
    function _findReplay(
        uint256 start,
        uint16 bank,
        uint16 currency
    ) internal view override returns (bool, SignedPayment memory replay) {
        uint256 count = settledPayments.length;
        for (uint256 i; i < count; ++i) {
            uint256 at = (start + i) % count;
            Payment memory p = settledPayments[at];
            if (p.currency != currency || customers[customerSlot[p.payer] - 1].bank != bank) continue;
            return (true, SignedPayment({payment: p, kind: 0, signature: settledSignatures[at]}));
        }
        return (false, replay);
    }

    // ──────────────────────────────────── Building FX items ─────────────────────────────────────

    function _makeFxItem(uint256 s, uint16 bank) private returns (FxPaymentRequest memory request) {
        uint256 kind = s % 11;
        if (kind == 6) {
            (bool found, FxPaymentRequest memory replay) = _findFxReplay(s >> 8);
            if (found) return replay;
            kind = 0;
        }
        StoredQuote memory stored = _pickQuote(s >> 16);
        FxQuote memory q = stored.quote;
        Customer memory payer = _customerAt(bank, s >> 24);
        Customer memory payee = _customer(s >> 32);
        uint256 receiveAmount = _receiveFor(s >> 40, kind, payer.addr, stored);
        FxPayment memory p = FxPayment({
            payer: payer.addr,
            payee: payee.addr,
            payeeBank: payee.bank,
            payCurrency: q.fromCurrency,
            payAmount: _payAmount(receiveAmount, q.rate),
            receiveCurrency: q.toCurrency,
            receiveAmount: receiveAmount,
            quoteHash: stored.hash,
            qrHash: keccak256(abi.encode("fx qr", s)),
            nonce: ledger.getAccount(payer.addr, q.fromCurrency).nonceBase + ((s >> 120) % 4),
            deadline: block.timestamp + 1 hours
        });
        if (kind == 5) p.payAmount = (s >> 128) % 2 == 0 ? p.payAmount + 1 : p.payAmount - 1;
        uint256 payerKey = kind == 4 ? _otherKey(payer.key) : payer.key;
        request.payment = p;
        request.payerSignature = _sign(payerKey, fx.hashFxPayment(p));
        request.quote = q;
        request.quoteSignature = kind == 7 ? _sign(strangerKey, fx.hashQuote(q)) : stored.signature;
    }

    /// @dev Kind 8 asks for more than the quote has left; kind 9 for more than the payer can pay; kind 10 for an
    /// absurd amount near 2^256 (a payer may sign anything); others for up to half of what the payer can afford.
    function _receiveFor(
        uint256 s,
        uint256 kind,
        address payer,
        StoredQuote memory stored
    ) private view returns (uint256) {
        FxQuote memory q = stored.quote;
        uint256 affordable = (ledger.balanceOf(payer, q.fromCurrency) * q.rate) / 1e18;
        if (kind == 8) return q.maxToAmount - fx.quoteUsed(stored.hash) + 1 + (s % 100);
        if (kind == 9) return affordable + 1 + (s % 100);
        if (kind == 10) return type(uint256).max - (s % 4);
        return bound(s, 1, _min(affordable / 2 + 1, MAX_RECEIVE));
    }

    /// @dev The contract's pay amount, or 1 where it does not fit 256 bits.
    function _payAmount(uint256 receiveAmount, uint256 rate) private view returns (uint256) {
        try fx.payAmountFor(receiveAmount, rate) returns (uint256 amount) {
            return amount;
        } catch {
            return 1;
        }
    }

    /// @dev An earlier quote, or a new one from a random provider and pair at a rate spread evenly over five
    /// decades (1e15 to 1e20); a few start in the future or have expired already.
    function _pickQuote(uint256 s) private returns (StoredQuote memory) {
        if (quotes.length != 0 && (s % 2 == 0 || quotes.length >= MAX_QUOTES)) {
            return quotes[(s >> 1) % quotes.length];
        }
        uint16 provider = _bank(s >> 8);
        uint256 fromIndex = (s >> 16) % currencyList.length;
        uint256 toIndex = (fromIndex + 1 + ((s >> 24) % (currencyList.length - 1))) % currencyList.length;
        uint256 timing = (s >> 32) % 8;
        FxQuote memory q = FxQuote({
            provider: provider,
            fromCurrency: currencyList[fromIndex],
            toCurrency: currencyList[toIndex],
            rate: bound(s >> 40, 1_000, 9_999) * 10 ** bound(s >> 56, 12, 16),
            maxToAmount: bound(s >> 104, 1, 5e8),
            validFrom: timing == 0 ? block.timestamp + 30 minutes : block.timestamp,
            expiry: timing == 1 ? block.timestamp - 1 : block.timestamp + 1 hours,
            quoteId: keccak256(abi.encode("quote", quotes.length))
        });
        StoredQuote memory stored = StoredQuote({
            quote: q,
            signature: _sign(deskKeys[provider - 1], fx.hashQuote(q)),
            hash: fx.quoteStructHash(q)
        });
        quotes.push(stored);
        return stored;
    }

    function _findFxReplay(uint256 start) private view returns (bool, FxPaymentRequest memory replay) {
        if (settledFx.length == 0) return (false, replay);
        return (true, settledFx[start % settledFx.length]);
    }

    // ───────────────────────────────────── Running FX calls ─────────────────────────────────────

    function _runFx(uint16 bank, FxPaymentRequest[] memory batch) private {
        bytes32[] memory ids = new bytes32[](batch.length);
        bool[] memory nonceUsedBefore = new bool[](batch.length);
        for (uint256 i; i < batch.length; ++i) {
            FxPayment memory p = batch[i].payment;
            ids[i] = fx.hashFxPayment(p);
            nonceUsedBefore[i] = ledger.isNonceUsed(p.payer, p.payCurrency, p.nonce);
        }

        Snapshot memory before = _snapshot();
        vm.recordLogs();
        vm.prank(relayers[bank - 1]);
        // Only an unauthorised caller or the pause may revert a batch; neither happens here.
        try fx.settleFxPayments(batch) {} catch {
            vm.getRecordedLogs();
            ++revertedCalls;
            return;
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();

        Expected memory expected = _emptyExpected();
        FxOutcome memory outcome = _applyFxLogs(logs, expected, batch.length);
        _checkExplained(before, _snapshot(), expected);
        _checkLegs(outcome);
        _checkFxItems(batch, ids, nonceUsedBefore, outcome);
    }

    /// @dev Books every settled FX payment and quote use; collects the legs each payment reports and the
    /// reserve moves the ledger reports, which must be the same.
    function _applyFxLogs(
        Vm.Log[] memory logs,
        Expected memory expected,
        uint256 size
    ) private returns (FxOutcome memory outcome) {
        outcome.settled = new bytes32[](size);
        outcome.rejected = new bytes32[](size);
        outcome.legs = new Leg[](2 * size);
        outcome.moves = new Leg[](logs.length);
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            bytes32 topic = log.topics[0];
            if (log.emitter == address(ledger) && topic == ISettlementLedger.CrossCurrencySettled.selector) {
                _applyCrossCurrency(log, expected, outcome);
            } else if (
                log.emitter == address(ledger) && topic == ISettlementLedger.InterbankSettled.selector
            ) {
                Leg memory move = Leg(
                    uint16(uint256(log.topics[1])),
                    uint16(uint256(log.topics[2])),
                    uint16(uint256(log.topics[3])),
                    abi.decode(log.data, (uint256))
                );
                outcome.moves[outcome.moveCount++] = move;
                expected.reserves[_bankIndex(move.from, move.currency)] -= int256(move.amount);
                expected.reserves[_bankIndex(move.to, move.currency)] += int256(move.amount);
            } else if (log.emitter == address(fx) && topic == IFxSettlement.QuoteUsed.selector) {
                bytes32 quoteHash = log.topics[1];
                (, uint256 receiveAmount, uint256 used) = abi.decode(log.data, (bytes32, uint256, uint256));
                usedByEvents[quoteHash] += receiveAmount;
                if (used != usedByEvents[quoteHash]) ++quoteUseMismatches;
            } else if (log.emitter == address(fx) && topic == IFxSettlement.PaymentRejected.selector) {
                if (outcome.rejectedCount == size) ++unexplainedChanges;
                else outcome.rejected[outcome.rejectedCount++] = log.topics[1];
            } else {
                ++unexplainedChanges;
            }
        }
    }

    function _applyCrossCurrency(
        Vm.Log memory log,
        Expected memory expected,
        FxOutcome memory outcome
    ) private {
        (bytes32 paymentId, , uint256 payTerms, uint256 receiveTerms) = abi.decode(
            log.data,
            (bytes32, bytes32, uint256, uint256)
        );
        Leg memory pay = _leg(payTerms);
        Leg memory receive_ = _leg(receiveTerms);
        uint256 payer = customerSlot[address(uint160(uint256(log.topics[1])))];
        uint256 payee = customerSlot[address(uint160(uint256(log.topics[2])))];
        if (payer == 0 || payee == 0 || outcome.settledCount == outcome.settled.length) {
            ++unexplainedChanges;
            return;
        }
        expected.balances[_customerIndex(payer - 1, pay.currency)] -= int256(pay.amount);
        expected.balances[_customerIndex(payee - 1, receive_.currency)] += int256(receive_.amount);
        // The payer bank's deposit liability goes down in one currency, the payee bank's up in the other.
        expected.deposits[_bankIndex(pay.from, pay.currency)] -= int256(pay.amount);
        expected.deposits[_bankIndex(receive_.to, receive_.currency)] += int256(receive_.amount);
        if (pay.from != pay.to) outcome.legs[outcome.legCount++] = pay;
        if (receive_.from != receive_.to) outcome.legs[outcome.legCount++] = receive_;

        fxPaidOut[pay.currency] += pay.amount;
        fxReceivedIn[receive_.currency] += receive_.amount;
        ++fxSettledTotal;
        outcome.settled[outcome.settledCount++] = paymentId;
        _countSettled(paymentId);
    }

    /// @dev The ledger's `InterbankSettled` moves are exactly the cross-bank legs its payments report, in order.
    function _checkLegs(FxOutcome memory outcome) private {
        if (outcome.legCount != outcome.moveCount) {
            ++legMismatches;
            return;
        }
        for (uint256 i; i < outcome.legCount; ++i) {
            Leg memory a = outcome.legs[i];
            Leg memory b = outcome.moves[i];
            if (a.from != b.from || a.to != b.to || a.currency != b.currency || a.amount != b.amount) {
                ++legMismatches;
            }
        }
    }

    /// @dev Each item settled or was rejected, once; a rejected item left its nonce unused (unless a settled
    /// item of the call used it) and the quotes' usage is what the events say.
    function _checkFxItems(
        FxPaymentRequest[] memory batch,
        bytes32[] memory ids,
        bool[] memory nonceUsedBefore,
        FxOutcome memory outcome
    ) private {
        bytes32[] memory settled = _prefix(outcome.settled, outcome.settledCount);
        bytes32[] memory rejected = _prefix(outcome.rejected, outcome.rejectedCount);
        if (outcome.settledCount + outcome.rejectedCount != batch.length) ++unexplainedChanges;
        for (uint256 i; i < batch.length; ++i) {
            FxPayment memory p = batch[i].payment;
            bool wasSettled = _contains(settled, ids[i]);
            if (wasSettled == _contains(rejected, ids[i])) ++unexplainedChanges;
            if (wasSettled) {
                settledFx.push(batch[i]);
            } else if (!nonceUsedBefore[i] && !_fxNonceSettled(batch, ids, settled, p)) {
                if (ledger.isNonceUsed(p.payer, p.payCurrency, p.nonce)) ++unexplainedChanges;
            }
            bytes32 quoteHash = fx.quoteStructHash(batch[i].quote);
            if (fx.quoteUsed(quoteHash) != usedByEvents[quoteHash]) ++quoteUseMismatches;
        }
    }

    // ─────────────────────────────────── Same-currency events ───────────────────────────────────

    /// @dev Books every `PaymentSettled` and `InterbankSettled` of a batch; returns the settled ids.
    function _applyBatchLogs(
        Vm.Log[] memory logs,
        Expected memory expected,
        SignedPayment[] memory batch,
        bytes32[] memory ids
    ) private returns (bytes32[] memory settled) {
        settled = new bytes32[](batch.length);
        uint256 count;
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter != address(ledger)) {
                ++unexplainedChanges;
                continue;
            }
            bytes32 topic = log.topics[0];
            if (topic == ISettlementLedger.PaymentSettled.selector) {
                (bytes32 paymentId, , uint256 terms) = abi.decode(log.data, (bytes32, bytes32, uint256));
                Leg memory t = _leg(terms);
                uint256 payer = customerSlot[address(uint160(uint256(log.topics[1])))];
                uint256 payee = customerSlot[address(uint160(uint256(log.topics[2])))];
                expected.balances[_customerIndex(payer - 1, t.currency)] -= int256(t.amount);
                expected.balances[_customerIndex(payee - 1, t.currency)] += int256(t.amount);
                expected.deposits[_bankIndex(t.from, t.currency)] -= int256(t.amount);
                expected.deposits[_bankIndex(t.to, t.currency)] += int256(t.amount);
                settled[count++] = paymentId;
                _countSettled(paymentId);
                uint256 at = _indexOf(ids, paymentId);
                settledPayments.push(batch[at].payment);
                settledSignatures.push(batch[at].signature);
            } else if (topic == ISettlementLedger.InterbankSettled.selector) {
                uint16 from = uint16(uint256(log.topics[1]));
                uint16 to = uint16(uint256(log.topics[2]));
                uint16 currency = uint16(uint256(log.topics[3]));
                uint256 amount = abi.decode(log.data, (uint256));
                expected.reserves[_bankIndex(from, currency)] -= int256(amount);
                expected.reserves[_bankIndex(to, currency)] += int256(amount);
            }
        }
        settled = _prefix(settled, count);
    }

    // ─────────────────────────────────────────── Checks ─────────────────────────────────────────

    /// @dev Balances of every customer and positions of every bank in every currency, flattened.
    function _snapshot() private view returns (Snapshot memory s) {
        uint256 banks = relayers.length;
        s.balances = new uint256[](customers.length * currencyList.length);
        s.reserves = new int256[](banks * currencyList.length);
        s.deposits = new uint256[](banks * currencyList.length);
        for (uint256 c; c < currencyList.length; ++c) {
            uint16 currency = currencyList[c];
            for (uint256 i; i < customers.length; ++i) {
                s.balances[c * customers.length + i] = ledger.balanceOf(customers[i].addr, currency);
            }
            for (uint256 b; b < banks; ++b) {
                (s.reserves[c * banks + b], s.deposits[c * banks + b]) = ledger.getPosition(
                    uint16(b + 1),
                    currency
                );
            }
        }
    }

    function _emptyExpected() private view returns (Expected memory e) {
        e.balances = new int256[](customers.length * currencyList.length);
        e.reserves = new int256[](relayers.length * currencyList.length);
        e.deposits = new int256[](relayers.length * currencyList.length);
    }

    function _fxNonceSettled(
        FxPaymentRequest[] memory batch,
        bytes32[] memory ids,
        bytes32[] memory settled,
        FxPayment memory p
    ) private pure returns (bool) {
        for (uint256 j; j < batch.length; ++j) {
            FxPayment memory other = batch[j].payment;
            bool sameNonce =
                other.payer == p.payer && other.payCurrency == p.payCurrency && other.nonce == p.nonce;
            if (sameNonce && _contains(settled, ids[j])) return true;
        }
        return false;
    }

    // ─────────────────────────────────────────── Helpers ────────────────────────────────────────

    /// @dev Unpacks amount ‖ from bank ‖ to bank ‖ currency, as the ledger's events pack them.
    function _leg(uint256 terms) private pure returns (Leg memory) {
        return
            Leg({
                amount: terms & ((1 << 96) - 1),
                from: uint16(terms >> 96),
                to: uint16(terms >> 112),
                currency: uint16(terms >> 128)
            });
    }

    function _customerIndex(uint256 customer, uint16 currency) private view returns (uint256) {
        return (currencySlot[currency] - 1) * customers.length + customer;
    }

    function _bankIndex(uint16 bank, uint16 currency) private view returns (uint256) {
        return (currencySlot[currency] - 1) * relayers.length + (bank - 1);
    }

    function _indexOf(bytes32[] memory list, bytes32 id) private pure returns (uint256) {
        for (uint256 i; i < list.length; ++i) if (list[i] == id) return i;
        return type(uint256).max;
    }

    function _prefix(bytes32[] memory list, uint256 count) private pure returns (bytes32[] memory out) {
        out = new bytes32[](count);
        for (uint256 i; i < count; ++i) out[i] = list[i];
    }
}

/// @notice Value conservation per currency and replay safety, with cross-currency payments in the mix of
/// CNY (exponent 2), JPY (0) and BHD (3).
contract FxInvariantsTest is FxTest {
    FxHandler internal handler;

    function setUp() public override {
        super.setUp();
        uint16[] memory currencies = new uint16[](3);
        (currencies[0], currencies[1], currencies[2]) = (CNY, JPY, BHD);

        // The fixture's named people, each at the bank that holds their CNY account.
        Person[7] memory people = _people();
        Customer[] memory customers = new Customer[](people.length);
        for (uint256 i; i < people.length; ++i) {
            uint16 bank = ledger.getAccount(people[i].addr, CNY).bankId;
            customers[i] = Customer(people[i].addr, bank, people[i].key);
        }
        address[3] memory bankAdmins = [adminA, adminB, adminC];
        // Everyone holds some of every currency, so any customer can be paid in any of them.
        for (uint256 i; i < customers.length; ++i) {
            for (uint256 c; c < currencies.length; ++c) {
                vm.prank(bankAdmins[customers[i].bank - 1]);
                ledger.issueDeposits(customers[i].addr, currencies[c], 1e6);
            }
        }

        address[] memory admins = new address[](3);
        (admins[0], admins[1], admins[2]) = (adminA, adminB, adminC);
        address[] memory relayers = new address[](3);
        (relayers[0], relayers[1], relayers[2]) = (relayerA, relayerB, relayerC);
        uint256[] memory deskKeys = new uint256[](3);
        (deskKeys[0], deskKeys[1], deskKeys[2]) = (deskA.key, deskB.key, deskC.key);
        handler = new FxHandler(
            Network({
                ledger: ledger,
                agent: agent,
                admins: admins,
                relayers: relayers,
                currencies: currencies
            }),
            customers,
            fx,
            deskKeys,
            _person("stranger").key
        );

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = FxHandler.settleBatch.selector;
        selectors[1] = FxHandler.settleFx.selector;
        selectors[2] = InvariantHandler.issueReserves.selector;
        selectors[3] = InvariantHandler.redeemReserves.selector;
        selectors[4] = InvariantHandler.issueDeposits.selector;
        selectors[5] = InvariantHandler.redeemDeposits.selector;
        selectors[6] = InvariantHandler.warp.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev Per currency: the banks' reserves add up to the supply, which is what the agent issued minus
    /// what it redeemed; cross-currency payments only move reserves between banks.
    function invariantReservesConservedPerCurrency() public view {
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
            assertEq(ledger.getSupply(currency).reserves, net, "reserve supply != issued - redeemed");
        }
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev Per bank and currency, its customers' balances add up to its deposit position.
    function invariantBankDepositsEqualCustomerBalances() public view {
        uint16[] memory currencies = handler.currencies();
        for (uint256 c; c < currencies.length; ++c) {
            for (uint16 bank = 1; bank <= handler.bankCount(); ++bank) {
                (, uint256 deposits) = ledger.getPosition(bank, currencies[c]);
                assertEq(_customersOf(bank, currencies[c]), deposits, "customer balances != bank deposits");
            }
        }
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev Per currency, customers hold what banks issued minus what they redeemed, plus what cross-currency
    /// payments brought in minus what they took out; the deposit supply says the same.
    function invariantDepositSupplyFollowsIssuanceAndFx() public view {
        uint16[] memory currencies = handler.currencies();
        for (uint256 c; c < currencies.length; ++c) {
            uint16 currency = currencies[c];
            uint256 total;
            for (uint16 bank = 1; bank <= handler.bankCount(); ++bank) total += _customersOf(bank, currency);
            uint256 expected =
                handler.depositsIssued(currency) +
                    handler.fxReceivedIn(currency) -
                    handler.depositsRedeemed(currency) -
                    handler.fxPaidOut(currency);
            assertEq(total, expected, "customer balances != issued - redeemed + FX in - FX out");
            assertEq(ledger.getSupply(currency).deposits, total, "deposit supply != customer balances");
        }
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev No quote ever delivers more than its maximum, and its recorded usage is the sum of its
    /// `QuoteUsed` events.
    function invariantQuoteUsageWithinMaximum() public view {
        for (uint256 i; i < handler.quoteCount(); ++i) {
            (bytes32 quoteHash, uint256 maxToAmount) = handler.quoteAt(i);
            assertLe(fx.quoteUsed(quoteHash), maxToAmount, "quote used beyond its maximum");
            assertEq(fx.quoteUsed(quoteHash), handler.usedByEvents(quoteHash), "quote usage != its events");
        }
        assertEq(handler.quoteUseMismatches(), 0, "QuoteUsed.used disagrees with the running total");
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev Replay safety: same- or cross-currency, however often a signed payment is resubmitted, it settles
    /// once.
    function invariantNoPaymentSettlesTwice() public view {
        uint256 count = handler.settledCount();
        for (uint256 i; i < count; ++i) {
            assertEq(handler.settleCount(handler.settledIds(i)), 1, "payment settled more than once");
        }
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev Every balance and position change is one its call's events report, the reserve moves are the
    /// legs the payments report, and rejected items move nothing and leave their nonces unused.
    function invariantRejectedItemsChangeNothing() public view {
        assertEq(handler.unexplainedChanges(), 0, "a change no event explains");
        assertEq(handler.legMismatches(), 0, "InterbankSettled != the payments' cross-bank legs");
    }

    /// forge-config: default.invariant.runs = 32
    /// @dev A bad item never stops the others: no well-formed call by an active bank's relayer reverts.
    function invariantSettlementCallsNeverRevert() public view {
        assertEq(handler.revertedCalls(), 0);
    }

    function _customersOf(uint16 bank, uint16 currency) private view returns (uint256 sum) {
        for (uint256 i; i < handler.customerCount(); ++i) {
            Customer memory customer = handler.customerAt(i);
            if (customer.bank == bank) sum += ledger.balanceOf(customer.addr, currency);
        }
    }
}
