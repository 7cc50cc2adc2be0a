// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

import {IBankRegistry, BankStatus} from "../../contracts/interfaces/IBankRegistry.sol";
import {ISettlementLedger, Payment, RejectReason} from "../../contracts/interfaces/ISettlementLedger.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {BatchEncoder, SignedPayment} from "./utils/BatchEncoder.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";
import {HostileWallet, OwnedSmartAccount} from "./utils/MockWallets.sol";

contract SettlePaymentsTest is LedgerTest {
    // ─────────────────────────────────────────── Settles ──────────────────────────────────────────

    function testSettleCrossBankPaymentMovesDepositsAndReserves() public {
        Payment memory p = _payment(alice, max, bankB, 123_45, 0);
        bytes32 id = ledger.hashPayment(p);

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.PaymentSettled(
            alice.addr,
            max.addr,
            id,
            p.qrHash,
            _terms(123_45, bankA, bankB, CNY)
        );
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankB, CNY, 123_45);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.BatchSettled(bankA, CNY, id, 1, 0);
        (uint256 settled, bytes32 root) = _settle(relayerA, _one(_signed(p, alice.key)));

        assertEq(settled, 1);
        assertEq(root, id, "a one-payment batch's root is the payment id");
        assertEq(ledger.batchRootBank(root), bankA);
        assertEq(_balance(alice), OPENING_BALANCE - 123_45);
        assertEq(_balance(max), 123_45);
        assertEq(_reserves(bankA), int256(RESERVES - 123_45));
        assertEq(_reserves(bankB), int256(RESERVES + 123_45));
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE - 123_45);
        assertEq(_deposits(bankB), OPENING_BALANCE + 123_45);
        assertTrue(ledger.isNonceUsed(alice.addr, CNY, 0));
    }

    function testSettleSameBankPaymentMovesNoReserves() public {
        _pay(alice, mia, bankA, 50_00, 0);

        assertEq(_balance(alice), OPENING_BALANCE - 50_00);
        assertEq(_balance(mia), 50_00);
        assertEq(_reserves(bankA), int256(RESERVES));
        assertEq(_deposits(bankA), 2 * OPENING_BALANCE);
    }

    function testSettleBatchNetsReservesPerPayeeBank() public {
        SignedPayment[] memory batch = new SignedPayment[](4);
        batch[0] = _signed(_payment(alice, max, bankB, 10_00, 0), alice.key);
        batch[1] = _signed(_payment(bob, max, bankB, 20_00, 0), bob.key);
        batch[2] = _signed(_payment(alice, noor, bankC, 5_00, 1), alice.key);
        batch[3] = _signed(_payment(bob, mia, bankA, 7_00, 1), bob.key);

        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankB, CNY, 30_00);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankC, CNY, 5_00);
        (uint256 settled, ) = _settle(relayerA, batch);

        assertEq(settled, 4);
        assertEq(_balance(max), 30_00);
        assertEq(_balance(noor), 5_00);
        assertEq(_balance(mia), 7_00);
        assertEq(_reserves(bankA), int256(RESERVES - 35_00));
        assertEq(_reserves(bankB), int256(RESERVES + 30_00));
        assertEq(_reserves(bankC), int256(RESERVES + 5_00));
    }

    function testSettleRootCommitsToSettledIdsInOrder() public {
        SignedPayment[] memory batch = new SignedPayment[](3);
        batch[0] = _signed(_payment(alice, max, bankB, 1_00, 0), alice.key);
        batch[1] = _signed(_payment(bob, max, bankB, 0, 0), bob.key); // rejected: not in the root
        batch[2] = _signed(_payment(bob, noor, bankC, 2_00, 1), bob.key);

        (uint256 settled, bytes32 root) = _settle(relayerA, batch);

        assertEq(settled, 2);
        bytes32 expected = Hashes.commutativeKeccak256(
            ledger.hashPayment(batch[0].payment),
            ledger.hashPayment(batch[2].payment)
        );
        assertEq(root, expected);
    }

    function testSettleAcceptsNoncesInAnyOrderWithinTheWindow() public {
        SignedPayment[] memory batch = new SignedPayment[](3);
        batch[0] = _signed(_payment(alice, max, bankB, 1_00, 2), alice.key);
        batch[1] = _signed(_payment(alice, max, bankB, 1_00, 0), alice.key);
        batch[2] = _signed(_payment(alice, max, bankB, 1_00, 1), alice.key);

        (uint256 settled, ) = _settle(relayerA, batch);

        assertEq(settled, 3);
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBase, 3, "window slides past the used run");
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBitmap, 0);
    }

    function testSettleCreditsArriveAtBatchEnd() public {
        // Max receives 10.00 and, in the same batch, tries to spend 5.00 of it: credits land after every item
        // has been checked, so his own payment finds an empty account.
        vm.prank(adminA);
        ledger.issueDeposits(mia.addr, CNY, 1_00);
        Payment memory fromMia = _payment(mia, noor, bankC, 1_00, 0);

        SignedPayment[] memory batch = new SignedPayment[](2);
        batch[0] = _signed(_payment(alice, mia, bankA, 10_00, 0), alice.key);
        batch[1] = _signed(_payment(mia, noor, bankC, 5_00, 1), mia.key);
        _expectRejected(batch[1].payment, RejectReason.InsufficientBalance);
        (uint256 settled, ) = _settle(relayerA, batch);

        assertEq(settled, 1);
        assertEq(_balance(mia), 11_00);
        _pay(mia, noor, bankC, fromMia.amount, 0);
    }

    function testSettleSmartAccountPayerWithERC1271() public {
        Person memory owner = _person("walletOwner");
        OwnedSmartAccount wallet = new OwnedSmartAccount(owner.addr);
        vm.prank(adminA);
        ledger.issueDeposits(address(wallet), CNY, 100_00);

        Payment memory p = _payment(Person(address(wallet), 0), max, bankB, 40_00, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(owner.key, ledger.hashPayment(p));
        SignedPayment memory signed = SignedPayment(p, 1, abi.encodePacked(r, s, v));
        (uint256 settled, ) = _settle(relayerA, _one(signed));

        assertEq(settled, 1);
        assertEq(ledger.balanceOf(address(wallet), CNY), 60_00);
    }

    // ─────────────────────────────────────────── Rejects ──────────────────────────────────────────

    function testRejectSignatureFromAnotherKey() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        _assertRejectedUnchanged(_signed(p, bob.key), RejectReason.InvalidSignature);
    }

    function testRejectMalleableHighSSignature() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(alice.key, ledger.hashPayment(p));
        // The mirror signature (n - s, flipped parity) recovers the same signer; it must not be accepted.
        uint256 highS = SECP256K1_ORDER - uint256(s);
        uint256 parity = v == 27 ? 1 : 0;
        bytes32 vs = bytes32(highS | (parity << 255));
        assertEq(ecrecover(ledger.hashPayment(p), uint8(27 + parity), r, bytes32(highS)), alice.addr);

        _assertRejectedUnchanged(SignedPayment(p, 0, abi.encodePacked(r, vs)), RejectReason.InvalidSignature);
    }

    function testRejectSignatureOverDifferentTerms() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        SignedPayment memory signed = _signed(p, alice.key);
        signed.payment.amount = 100_00; // the relayer cannot change what the payer signed
        _assertRejectedUnchanged(signed, RejectReason.InvalidSignature);
    }

    function testRejectExpiredPayment() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        p.deadline = block.timestamp - 1;
        _assertRejectedUnchanged(_signed(p, alice.key), RejectReason.Expired);
    }

    function testRejectReplayedPayment() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        _settle(relayerA, _one(_signed(p, alice.key)));
        _assertRejectedUnchanged(_signed(p, alice.key), RejectReason.NonceUsed);
    }

    function testRejectCancelledNonce() public {
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 0);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 1_00, 0), alice.key),
            RejectReason.NonceUsed
        );
    }

    function testRejectNonceBeyondWindow() public {
        Payment memory p = _payment(alice, max, bankB, 1_00, 64);
        _assertRejectedUnchanged(_signed(p, alice.key), RejectReason.NonceOutOfWindow);
    }

    function testRejectNonceAboveTheNonceRange() public {
        // Near the top of the range the window may not slide past MAX_NONCE: the start must stay in 48 bits.
        vm.prank(alice.addr);
        ledger.invalidateNonces(CNY, AccountLib.MAX_NONCE - 1);
        Payment memory beyond = _payment(alice, max, bankB, 1_00, AccountLib.MAX_NONCE + 1);
        _assertRejectedUnchanged(_signed(beyond, alice.key), RejectReason.NonceOutOfWindow);

        _pay(alice, max, bankB, 1_00, AccountLib.MAX_NONCE);
        _pay(alice, max, bankB, 1_00, AccountLib.MAX_NONCE - 1);
        assertEq(ledger.getAccount(alice.addr, CNY).nonceBase, AccountLib.MAX_NONCE_BASE);
        assertEq(ledger.getAccount(alice.addr, CNY).bankId, bankA);
    }

    function testRejectPayerOfAnotherBank() public {
        // Carol banks with B; A's relayer cannot settle her payments.
        Payment memory p = _payment(carol, mia, bankA, 1_00, 0);
        _assertRejectedUnchanged(_signed(p, carol.key), RejectReason.SenderNotCustomer);
    }

    function testRejectFrozenPayer() public {
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 1_00, 0), alice.key),
            RejectReason.SenderFrozen
        );
    }

    function testRejectPayeeAtAnotherBankThanTheQrSays() public {
        // Max banks with B, but the code claims bank C.
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankC, 1_00, 0), alice.key),
            RejectReason.ReceiverNotCustomer
        );
    }

    function testRejectUnknownPayee() public {
        Person memory stranger = _person("stranger");
        _assertRejectedUnchanged(
            _signed(_payment(alice, stranger, bankB, 1_00, 0), alice.key),
            RejectReason.ReceiverNotCustomer
        );
    }

    function testRejectFrozenPayee() public {
        vm.prank(freezer);
        ledger.setFrozen(max.addr, CNY, true);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 1_00, 0), alice.key),
            RejectReason.ReceiverFrozen
        );
    }

    function testRejectPayeeAtSuspendedBank() public {
        vm.prank(operator);
        registry.setBankStatus(bankB, BankStatus.Suspended);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 1_00, 0), alice.key),
            RejectReason.ReceiverBankInactive
        );
    }

    function testRejectZeroAmount() public {
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 0, 0), alice.key),
            RejectReason.InvalidAmount
        );
    }

    function testRejectAmountAboveBankCap() public {
        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 0, 500_00);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 500_01, 0), alice.key),
            RejectReason.InvalidAmount
        );
        _pay(alice, max, bankB, 500_00, 0);
    }

    function testRejectInsufficientBalance() public {
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, OPENING_BALANCE + 1, 0), alice.key),
            RejectReason.InsufficientBalance
        );
    }

    function testRejectOverDailyLimitAndResetNextDay() public {
        vm.prank(adminA);
        ledger.setCustomerLimit(alice.addr, CNY, 100_00);
        _pay(alice, max, bankB, 60_00, 0);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 40_01, 1), alice.key),
            RejectReason.DailyLimitExceeded
        );
        _pay(alice, max, bankB, 40_00, 1);

        vm.warp(block.timestamp + 1 days);
        _pay(alice, max, bankB, 100_00, 2);
        assertEq(ledger.getCustomerLimit(alice.addr, CNY).spentToday, 100_00);
    }

    function testRejectWhenPayerBankReservesRunOut() public {
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES - 10_00);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 10_01, 0), alice.key),
            RejectReason.InsufficientReserves
        );
        // A same-bank payment needs no reserves.
        _pay(alice, mia, bankA, 10_01, 0);
    }

    function testSettleIntoDebitCapAndEnforceIt() public {
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES);
        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 50_00, 0);

        _pay(alice, max, bankB, 30_00, 0);
        assertEq(_reserves(bankA), -30_00, "bank A now owes 30.00 intraday");
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 20_01, 1), alice.key),
            RejectReason.InsufficientReserves
        );
        _pay(bob, max, bankB, 20_00, 0);
        assertEq(_reserves(bankA), -50_00);

        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementLedger.InsufficientReserves.selector,
                bankA,
                CNY,
                int256(-50_00),
                1
            )
        );
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, 1);
    }

    function testRejectRevertingSmartAccount() public {
        _assertSmartAccountRejected(new HostileWallet(false));
    }

    function testRejectGasBurningSmartAccountWithinBoundedGas() public {
        _assertSmartAccountRejected(new HostileWallet(true));
    }

    function testRejectedItemDoesNotStopTheBatch() public {
        SignedPayment[] memory batch = new SignedPayment[](3);
        batch[0] = _signed(_payment(alice, max, bankB, 1_00, 0), alice.key);
        batch[1] = _signed(_payment(bob, max, bankB, 1_00, 0), alice.key); // wrong signer
        batch[2] = _signed(_payment(bob, noor, bankC, 2_00, 1), bob.key);

        _expectRejected(batch[1].payment, RejectReason.InvalidSignature);
        (uint256 settled, ) = _settle(relayerA, batch);

        assertEq(settled, 2);
        assertEq(_balance(bob), OPENING_BALANCE - 2_00);
        assertTrue(ledger.isNonceUsed(bob.addr, CNY, 1));
        assertFalse(ledger.isNonceUsed(bob.addr, CNY, 0), "a rejected item leaves its nonce unused");
    }

    // ──────────────────────────────────────── Caller errors ───────────────────────────────────────

    function testRevertWhenCallerIsNotARelayer() public {
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, adminA));
        vm.prank(adminA);
        ledger.settlePayments(CNY, payees, items);
    }

    function testRevertWhenRelayerBankIsSuspended() public {
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Suspended);
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.BankNotActive.selector, bankA));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, payees, items);
    }

    function testRevertWhenPaused() public {
        vm.prank(pauser);
        registry.pause();
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(relayerA);
        ledger.settlePayments(CNY, payees, items);
    }

    function testRevertOnDisabledCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.CurrencyNotSupported.selector, CNY));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, payees, items);
    }

    function testRevertOnEmptyBatch() public {
        vm.expectRevert(ISettlementLedger.EmptyBatch.selector);
        vm.prank(relayerA);
        ledger.settlePayments(CNY, abi.encodePacked(max.addr, bankB), "");
    }

    function testRevertOnMalformedPayeeTable() public {
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        bytes memory truncated = _slice(payees, 21);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MalformedBatch.selector, 0, 21));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, truncated, items);
    }

    function testRevertOnTruncatedItem() public {
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(
            _one(_signed(_payment(alice, max, bankB, 1_00, 0), alice.key))
        );
        bytes memory truncated = _slice(items, items.length - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MalformedBatch.selector, 1, 0));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, payees, truncated);
    }

    function testRevertOnPayeeIndexOutOfRange() public {
        SignedPayment memory signed = _signed(_payment(alice, max, bankB, 1_00, 0), alice.key);
        bytes memory items = BatchEncoder.encodeItem(signed, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MalformedBatch.selector, 1, 0));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, abi.encodePacked(max.addr, bankB), items);
    }

    function testRevertOnUnknownSignatureKind() public {
        SignedPayment memory signed = _signed(_payment(alice, max, bankB, 1_00, 0), alice.key);
        signed.kind = 7;
        bytes memory items = BatchEncoder.encodeItem(signed, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementLedger.MalformedBatch.selector, 1, 0));
        vm.prank(relayerA);
        ledger.settlePayments(CNY, abi.encodePacked(max.addr, bankB), items);
    }

    // ──────────────────────────────────────────── Fuzz ────────────────────────────────────────────

    /// @dev Whatever the amount, a cross-bank payment conserves deposits and reserves: what leaves one side
    /// arrives on the other, and totals stay put.
    function testFuzzSettleConservesValue(uint256 amount, uint256 nonce, bool crossBank) public {
        amount = bound(amount, 1, OPENING_BALANCE);
        nonce = bound(nonce, 0, 63);
        Person memory payee = crossBank ? max : mia;
        uint16 payeeBank = crossBank ? bankB : bankA;
        uint256 depositsBefore = ledger.getSupply(CNY).deposits;
        int256 reservesBefore = _reserves(bankA) + _reserves(bankB);

        _pay(alice, payee, payeeBank, amount, nonce);

        assertEq(_balance(alice) + _balance(payee), OPENING_BALANCE);
        assertEq(_deposits(bankA) + _deposits(bankB), depositsBefore);
        assertEq(_reserves(bankA) + _reserves(bankB), reservesBefore);
        assertEq(ledger.getSupply(CNY).deposits, depositsBefore);
        assertEq(_reserves(bankA), crossBank ? int256(RESERVES - amount) : int256(RESERVES));
    }

    /// @dev No key but the payer's can authorise a payment.
    function testFuzzRejectSignatureFromAnyOtherKey(uint256 key) public {
        key = bound(key, 1, SECP256K1_ORDER - 1);
        vm.assume(key != alice.key);
        _assertRejectedUnchanged(
            _signed(_payment(alice, max, bankB, 1_00, 0), key),
            RejectReason.InvalidSignature
        );
    }

    /// @dev A payment settles up to and including its deadline, never after.
    function testFuzzDeadline(uint256 deadlineOffset, uint256 elapsed) public {
        deadlineOffset = bound(deadlineOffset, 0, 365 days);
        elapsed = bound(elapsed, 0, 400 days);
        Payment memory p = _payment(alice, max, bankB, 1_00, 0);
        p.deadline = block.timestamp + deadlineOffset;
        SignedPayment memory signed = _signed(p, alice.key);
        vm.warp(block.timestamp + elapsed);

        (uint256 settled, ) = _settle(relayerA, _one(signed));
        assertEq(settled, elapsed <= deadlineOffset ? 1 : 0);
    }

    /// @dev Any single-byte corruption of a signed item is either rejected or reverts as malformed; it never
    /// settles something the payer did not sign.
    function testFuzzCorruptedItemNeverSettlesUnsignedTerms(uint256 position, uint8 flip) public {
        vm.assume(flip != 0);
        SignedPayment memory signed = _signed(_payment(alice, max, bankB, 1_00, 0), alice.key);
        bytes memory items = BatchEncoder.encodeItem(signed, 0);
        position = bound(position, 0, items.length - 1);
        items[position] = bytes1(uint8(items[position]) ^ flip);

        vm.prank(relayerA);
        try ledger.settlePayments(CNY, abi.encodePacked(max.addr, bankB), items) returns (
            uint256 settled,
            bytes32
        ) {
            assertEq(settled, 0);
            assertEq(_balance(alice), OPENING_BALANCE);
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), ISettlementLedger.MalformedBatch.selector);
        }
    }

    // ─────────────────────────────────────────── Helpers ──────────────────────────────────────────

    /// @dev Settles `signed` alone and checks it was rejected for `reason` with no balance, reserve or nonce
    /// changed.
    function _assertRejectedUnchanged(SignedPayment memory signed, RejectReason reason) private {
        Payment memory p = signed.payment;
        uint256 payerBefore = ledger.balanceOf(p.payer, CNY);
        uint256 payeeBefore = ledger.balanceOf(p.payee, CNY);
        int256 reservesA = _reserves(bankA);
        int256 reservesB = _reserves(bankB);
        bool nonceUsedBefore = ledger.isNonceUsed(p.payer, CNY, p.nonce);

        _expectRejected(p, reason);
        (uint256 settled, bytes32 root) = _settle(relayerA, _one(signed));

        assertEq(settled, 0);
        assertEq(root, bytes32(0));
        assertEq(ledger.balanceOf(p.payer, CNY), payerBefore, "payer balance changed");
        assertEq(ledger.balanceOf(p.payee, CNY), payeeBefore, "payee balance changed");
        assertEq(_reserves(bankA), reservesA, "reserves changed");
        assertEq(_reserves(bankB), reservesB, "reserves changed");
        assertEq(ledger.isNonceUsed(p.payer, CNY, p.nonce), nonceUsedBefore, "nonce changed");
    }

    function _assertSmartAccountRejected(HostileWallet wallet) private {
        vm.prank(adminA);
        ledger.issueDeposits(address(wallet), CNY, 10_00);
        Payment memory p = _payment(Person(address(wallet), 0), max, bankB, 1_00, 0);
        SignedPayment memory signed = SignedPayment(p, 1, hex"01");
        uint256 gasBefore = gasleft();
        _assertRejectedUnchanged(signed, RejectReason.InvalidSignature);
        assertLt(gasBefore - gasleft(), 1_000_000, "a wallet cannot take more than its bounded gas");
    }

    function _slice(bytes memory data, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) out[i] = data[i];
    }
}
