// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {BankStatus, IBankRegistry} from "../../contracts/interfaces/IBankRegistry.sol";
import {
    FxPayment,
    FxPaymentRequest,
    FxQuote,
    IFxSettlement
} from "../../contracts/interfaces/IFxSettlement.sol";
import {
    CrossCurrencyPayment,
    ISettlementLedger,
    RejectReason,
    Supply
} from "../../contracts/interfaces/ISettlementLedger.sol";
import {FxTest} from "./utils/FxTest.sol";
import {OwnedSmartAccount} from "./utils/MockWallets.sol";

/// @notice `FxSettlement.settleFxPayments` and the ledger's `settleCrossCurrency` behind it: a CNY payer at
/// Alpha (A) pays an HKD merchant at Beta (B) at a quote of an FX provider bank.
contract FxSettlementTest is FxTest {
    bytes32 private constant FX_SETTLEMENT_ROLE = keccak256("FX_SETTLEMENT_ROLE");

    // ─────────────────────────────────────────── Settles ──────────────────────────────────────────

    function testSettleThroughThirdBankProviderMovesBothLegs() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        assertEq(p.payAmount, 100_00, "HKD 108.50 at 1.0850 costs CNY 100.00");
        bytes32 quoteHash = fx.quoteStructHash(q);
        Supply memory cnySupply = ledger.getSupply(CNY);
        Supply memory hkdSupply = ledger.getSupply(HKD);
        uint256 depositsA = _depositsIn(bankA, CNY);
        uint256 depositsB = _depositsIn(bankB, HKD);
        uint256 providerCny = _depositsIn(bankC, CNY);
        uint256 providerHkd = _depositsIn(bankC, HKD);

        vm.recordLogs();
        _expectUsualPaymentSettled(p, bankC);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankC, CNY, 100_00);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankC, bankB, HKD, 108_50);
        _expectQuoteUsed(q, 108_50, 108_50);
        uint256 settled = _settleOne(_request(p, alice.key, q));

        assertEq(settled, 1);
        assertEq(_settlementLogs(), 4, "one payment event, two legs, one quote use");
        assertEq(_balanceIn(alice, CNY), OPENING_BALANCE - 100_00);
        assertEq(_balanceIn(max, HKD), 108_50);
        assertEq(_balanceIn(max, CNY), 0);
        assertEq(_balanceIn(hana, HKD), PROVIDER_CUSTOMER_BALANCE, "the provider's customers are untouched");
        assertEq(_reservesIn(bankA, CNY), int256(RESERVES - 100_00));
        assertEq(_reservesIn(bankC, CNY), int256(RESERVES + 100_00));
        assertEq(_reservesIn(bankC, HKD), int256(FX_RESERVES - 108_50));
        assertEq(_reservesIn(bankB, HKD), int256(RESERVES + 108_50));
        assertEq(_reservesIn(bankB, CNY), int256(RESERVES), "no CNY reaches the merchant's bank");
        assertEq(_reservesIn(bankA, HKD), int256(FX_RESERVES), "no HKD leaves the payer's bank");
        assertEq(_depositsIn(bankA, CNY), depositsA - 100_00);
        assertEq(_depositsIn(bankB, HKD), depositsB + 108_50);
        assertEq(_depositsIn(bankC, CNY), providerCny, "the provider's deposit liabilities do not move");
        assertEq(_depositsIn(bankC, HKD), providerHkd, "the provider's deposit liabilities do not move");
        assertEq(_depositsIn(bankB, CNY), OPENING_BALANCE, "Carol's CNY only: no CNY reaches bank B");
        assertEq(ledger.getSupply(CNY).reserves, cnySupply.reserves);
        assertEq(ledger.getSupply(HKD).reserves, hkdSupply.reserves);
        // Deposit money leaves CNY and enters HKD.
        assertEq(ledger.getSupply(CNY).deposits, cnySupply.deposits - 100_00);
        assertEq(ledger.getSupply(HKD).deposits, hkdSupply.deposits + 108_50);
        assertTrue(ledger.isNonceUsed(alice.addr, CNY, 0));
        assertFalse(ledger.isNonceUsed(alice.addr, HKD, 0), "the nonce is the pay currency's");
        assertEq(fx.quoteUsed(quoteHash), 108_50);
    }

    function testSettleWithPayerBankAsProviderMovesOnlyTheReceiveLeg() public {
        FxQuote memory q = _hkdQuote(bankA);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);

        vm.recordLogs();
        _expectUsualPaymentSettled(p, bankA);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankB, HKD, 108_50);
        _expectQuoteUsed(q, 108_50, 108_50);
        uint256 settled = _settleOne(_request(p, alice.key, q));

        assertEq(settled, 1);
        assertEq(_settlementLogs(), 3, "the pay leg stays inside bank A");
        assertEq(_balanceIn(alice, CNY), OPENING_BALANCE - 100_00);
        assertEq(_balanceIn(max, HKD), 108_50);
        assertEq(_reservesIn(bankA, CNY), int256(RESERVES));
        assertEq(_reservesIn(bankA, HKD), int256(FX_RESERVES - 108_50));
        assertEq(_reservesIn(bankB, HKD), int256(RESERVES + 108_50));
        assertEq(_reservesIn(bankC, CNY), int256(RESERVES));
        assertEq(_reservesIn(bankC, HKD), int256(FX_RESERVES));
    }

    function testSettleWithPayeeBankAsProviderMovesOnlyThePayLeg() public {
        FxQuote memory q = _hkdQuote(bankB);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);

        vm.recordLogs();
        _expectUsualPaymentSettled(p, bankB);
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.InterbankSettled(bankA, bankB, CNY, 100_00);
        _expectQuoteUsed(q, 108_50, 108_50);
        uint256 settled = _settleOne(_request(p, alice.key, q));

        assertEq(settled, 1);
        assertEq(_settlementLogs(), 3, "the receive leg stays inside bank B");
        assertEq(_balanceIn(alice, CNY), OPENING_BALANCE - 100_00);
        assertEq(_balanceIn(max, HKD), 108_50);
        assertEq(_reservesIn(bankA, CNY), int256(RESERVES - 100_00));
        assertEq(_reservesIn(bankB, CNY), int256(RESERVES + 100_00));
        assertEq(_reservesIn(bankB, HKD), int256(RESERVES));
        assertEq(_reservesIn(bankC, CNY), int256(RESERVES));
    }

    function testSettleWithOneBankAsPayerProviderAndPayeeMovesNoReserves() public {
        vm.prank(adminA);
        ledger.openAccount(mia.addr, HKD);
        FxQuote memory q = _hkdQuote(bankA);
        FxPayment memory p = _fxPayment(alice, mia, bankA, q, 108_50, 0);

        vm.recordLogs();
        uint256 settled = _settleOne(_request(p, alice.key, q));

        assertEq(settled, 1);
        assertEq(_settlementLogs(), 2, "CrossCurrencySettled and QuoteUsed, no interbank leg");
        assertEq(_balanceIn(alice, CNY), OPENING_BALANCE - 100_00);
        assertEq(_balanceIn(mia, HKD), 108_50);
        assertEq(_reservesIn(bankA, CNY), int256(RESERVES));
        assertEq(_reservesIn(bankA, HKD), int256(FX_RESERVES));
    }

    /// @dev The provider's customers hold exactly what they held, so its deposit positions must not move.
    function testSettleKeepsDepositPositionsEqualToCustomersViaThirdBank() public {
        _settleOne(_payMax(alice, _hkdQuote(bankC), 108_50, 0));
        _assertDepositPositionsMatchCustomers(CNY);
        _assertDepositPositionsMatchCustomers(HKD);
    }

    function testSettleKeepsDepositPositionsEqualToCustomersViaPayerBank() public {
        _settleOne(_payMax(alice, _hkdQuote(bankA), 108_50, 0));
        _assertDepositPositionsMatchCustomers(CNY);
        _assertDepositPositionsMatchCustomers(HKD);
    }

    function testSettleKeepsDepositPositionsEqualToCustomersViaPayeeBank() public {
        _settleOne(_payMax(alice, _hkdQuote(bankB), 108_50, 0));
        _assertDepositPositionsMatchCustomers(CNY);
        _assertDepositPositionsMatchCustomers(HKD);
    }

    /// @dev The supply's deposits bound every balance (the 2^96 cap); they must follow the customers' total.
    function testSettleKeepsDepositSupplyEqualToCustomerBalances() public {
        _settleOne(_payMax(alice, _hkdQuote(bankC), 108_50, 0));
        assertEq(ledger.getSupply(CNY).deposits, _allCustomers(CNY), "CNY supply != CNY customer balances");
        assertEq(ledger.getSupply(HKD).deposits, _allCustomers(HKD), "HKD supply != HKD customer balances");
    }

    /// @dev A provider needs reserves in the receive currency, not customers holding it: Beta holds HKD
    /// reserves and no HKD deposits, and provides HKD to Noor at Gamma.
    function testSettleWithProviderHoldingOnlyReservesInReceiveCurrency() public {
        assertEq(_depositsIn(bankB, HKD), 0);
        vm.prank(adminC);
        ledger.openAccount(noor.addr, HKD);
        FxQuote memory q = _hkdQuote(bankB);
        FxPayment memory p = _fxPayment(alice, noor, bankC, q, 108_50, 0);

        uint256 settled = _settleOne(_request(p, alice.key, q));

        assertEq(settled, 1);
        assertEq(_balanceIn(noor, HKD), 108_50);
        assertEq(_reservesIn(bankB, HKD), int256(RESERVES - 108_50));
        assertEq(_reservesIn(bankC, HKD), int256(FX_RESERVES + 108_50));
    }

    function testSettleCompactPayerAndQuoteSignatures() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        (bytes32 r, bytes32 vs) = vm.signCompact(deskC.key, fx.hashQuote(q));
        FxPaymentRequest memory request = FxPaymentRequest({
            payment: p,
            payerSignature: _signFxCompact(p, alice.key),
            quote: q,
            quoteSignature: abi.encodePacked(r, vs)
        });
        assertEq(request.payerSignature.length, 64);

        assertEq(_settleOne(request), 1);
        assertEq(_balanceIn(max, HKD), 108_50);
    }

    function testSettleSmartAccountPayerWithERC1271() public {
        Person memory owner = _person("walletOwner");
        OwnedSmartAccount wallet = new OwnedSmartAccount(owner.addr);
        vm.prank(adminA);
        ledger.issueDeposits(address(wallet), CNY, 500_00);
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(Person(address(wallet), 0), max, bankB, q, 108_50, 0);

        assertEq(_settleOne(_request(p, owner.key, q)), 1);
        assertEq(ledger.balanceOf(address(wallet), CNY), 400_00);
        assertEq(_balanceIn(max, HKD), 108_50);
    }

    function testSettleAtPaymentDeadline() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        p.deadline = block.timestamp;
        assertEq(_settleOne(_request(p, alice.key, q)), 1);
    }

    function testSettleAtQuoteExpiry() public {
        FxQuote memory q = _hkdQuote(bankC);
        q.expiry = block.timestamp + 10 minutes;
        FxPaymentRequest memory request = _payMax(alice, q, 108_50, 0);
        vm.warp(q.expiry);
        assertEq(_settleOne(request), 1);
    }

    function testSettleWhenPayeeFrozenOnlyInPayCurrency() public {
        vm.prank(freezer);
        ledger.setFrozen(max.addr, CNY, true);
        assertEq(_settleOne(_payMax(alice, _hkdQuote(bankC), 108_50, 0)), 1);
        assertEq(_balanceIn(max, HKD), 108_50);
    }

    function testSettleWithPayerBankAsProviderNeedsNoPayCurrencyReserves() public {
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES);
        assertEq(_settleOne(_payMax(alice, _hkdQuote(bankA), 108_50, 0)), 1);
        assertEq(_reservesIn(bankA, CNY), 0);
    }

    // ──────────────────────────────────────── Quote capacity ─────────────────────────────────────

    function testQuoteCapacityIsMeteredAcrossPaymentsBatchesAndBanks() public {
        FxQuote memory q = _quote(bankC, CNY, HKD, RATE_CNY_HKD, 300_00);
        bytes32 quoteHash = fx.quoteStructHash(q);

        FxPaymentRequest[] memory first = new FxPaymentRequest[](2);
        first[0] = _payMax(alice, q, 100_00, 0);
        first[1] = _payMax(bob, q, 160_00, 0);
        _expectQuoteUsed(q, 100_00, 100_00);
        _expectQuoteUsed(q, 160_00, 260_00);
        assertEq(_settleFx(relayerA, first), 2);

        // Any bank's customers may use the quote: Carol banks with Beta.
        FxPaymentRequest[] memory second = new FxPaymentRequest[](2);
        second[0] = _payMax(carol, q, 40_01, 0);
        second[1] = _payMax(carol, q, 40_00, 1);
        _expectFxRejected(second[0].payment, RejectReason.QuoteExhausted);
        _expectQuoteUsed(q, 40_00, 300_00);
        assertEq(_settleFx(relayerB, second), 1);

        assertEq(fx.quoteUsed(quoteHash), 300_00, "filled exactly to its maximum");
        _assertRejectedUnchanged(_payMax(alice, q, 1, 1), RejectReason.QuoteExhausted);
        assertEq(_balanceIn(max, HKD), 300_00);
        assertEq(_balanceIn(carol, CNY), OPENING_BALANCE - _ceilPay(40_00, RATE_CNY_HKD));
    }

    function testRejectedPaymentUsesNoQuoteCapacity() public {
        FxQuote memory q = _quote(bankC, CNY, HKD, RATE_CNY_HKD, 100_00);
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);
        _assertRejectedUnchanged(_payMax(alice, q, 100_00, 0), RejectReason.SenderFrozen);
        assertEq(fx.quoteUsed(fx.quoteStructHash(q)), 0);

        assertEq(_settleOne(_payMax(bob, q, 100_00, 0)), 1);
        assertEq(fx.quoteUsed(fx.quoteStructHash(q)), 100_00);
    }

    function testRejectQuoteExhausted() public {
        FxQuote memory q = _quote(bankC, CNY, HKD, RATE_CNY_HKD, 100_00);
        _settleOne(_payMax(alice, q, 100_00, 0));
        _assertRejectedUnchanged(_payMax(bob, q, 1, 0), RejectReason.QuoteExhausted);
    }

    function testRejectPaymentLargerThanTheWholeQuote() public {
        FxQuote memory q = _quote(bankC, CNY, HKD, RATE_CNY_HKD, 100_00);
        _assertRejectedUnchanged(_payMax(alice, q, 100_01, 0), RejectReason.QuoteExhausted);
    }

    // ─────────────────────────────────────── Rejects: payer ──────────────────────────────────────

    function testRejectPayerSignatureFromAnotherKey() public {
        FxQuote memory q = _hkdQuote(bankC);
        _assertRejectedUnchanged(
            _request(_fxPayment(alice, max, bankB, q, 108_50, 0), bob.key, q),
            RejectReason.InvalidSignature
        );
    }

    function testRejectPayerSignatureOverDifferentTerms() public {
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        // The relayer cannot raise the amounts the payer signed, even consistently with the quote.
        request.payment.receiveAmount = 217_00;
        request.payment.payAmount = 200_00;
        _assertRejectedUnchanged(request, RejectReason.InvalidSignature);
    }

    function testRejectMalformedPayerSignature() public {
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        request.payerSignature = hex"1234";
        _assertRejectedUnchanged(request, RejectReason.InvalidSignature);
    }

    function testRejectSmartAccountPayerSignedByAnotherKey() public {
        OwnedSmartAccount wallet = new OwnedSmartAccount(_person("walletOwner").addr);
        vm.prank(adminA);
        ledger.issueDeposits(address(wallet), CNY, 500_00);
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(Person(address(wallet), 0), max, bankB, q, 108_50, 0);
        _assertRejectedUnchanged(
            relayerA,
            _request(p, bob.key, q),
            RejectReason.InvalidSignature,
            address(wallet)
        );
    }

    function testRejectExpiredPayment() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        p.deadline = block.timestamp - 1;
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.Expired);
    }

    function testRejectReplayedPayment() public {
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        assertEq(_settleOne(request), 1);
        _assertRejectedUnchanged(request, RejectReason.NonceUsed);
        assertEq(_balanceIn(max, HKD), 108_50);
    }

    function testRejectNonceUsedByASameCurrencyPayment() public {
        _pay(alice, max, bankB, 1_00, 0);
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 0), RejectReason.NonceUsed);
    }

    function testRejectCancelledNonce() public {
        vm.prank(alice.addr);
        ledger.cancelNonce(CNY, 0);
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 0), RejectReason.NonceUsed);
    }

    function testRejectNonceBeyondWindow() public {
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 64), RejectReason.NonceOutOfWindow);
    }

    function testRejectPayerOfAnotherBank() public {
        // Carol banks with Beta; Alpha's relayer cannot settle her payments.
        _assertRejectedUnchanged(_payMax(carol, _hkdQuote(bankC), 108_50, 0), RejectReason.SenderNotCustomer);
    }

    function testRejectPayerWithoutAccountInPayCurrency() public {
        // Alice holds no HKD; an HKD→CNY quote cannot be paid from her account.
        FxQuote memory q = _quote(bankC, HKD, CNY, 0.92e18, QUOTE_CAPACITY);
        _assertRejectedUnchanged(_payMax(alice, q, 92_00, 0), RejectReason.SenderNotCustomer);
    }

    function testRejectFrozenPayer() public {
        vm.prank(adminA);
        ledger.setFrozen(alice.addr, CNY, true);
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 0), RejectReason.SenderFrozen);
    }

    function testRejectInsufficientBalance() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 10_850_01, 0);
        assertEq(p.payAmount, OPENING_BALANCE + 1, "HKD 10,850.01 costs CNY 10,000.01");
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.InsufficientBalance);

        FxPayment memory all = _fxPayment(alice, max, bankB, q, 10_850_00, 0);
        assertEq(_settleOne(_request(all, alice.key, q)), 1);
        assertEq(_balanceIn(alice, CNY), 0);
    }

    function testRejectOverDailyLimit() public {
        vm.prank(adminA);
        ledger.setCustomerLimit(alice.addr, CNY, 150_00);
        FxQuote memory q = _hkdQuote(bankC);
        _settleOne(_payMax(alice, q, 108_50, 0));
        assertEq(ledger.getCustomerLimit(alice.addr, CNY).spentToday, 100_00, "the pay amount counts");

        FxPayment memory p = _fxPayment(alice, max, bankB, q, 54_26, 1);
        assertEq(p.payAmount, 50_01);
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.DailyLimitExceeded);

        FxPayment memory fits = _fxPayment(alice, max, bankB, q, 54_25, 1);
        assertEq(fits.payAmount, 50_00);
        assertEq(_settleOne(_request(fits, alice.key, q)), 1);
        assertEq(ledger.getCustomerLimit(alice.addr, CNY).spentToday, 150_00);
    }

    function testRejectPayAmountAbovePayerBankCap() public {
        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 0, 99_99);
        FxQuote memory q = _hkdQuote(bankC);
        _assertRejectedUnchanged(_payMax(alice, q, 108_50, 0), RejectReason.InvalidAmount);

        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 0, 100_00);
        assertEq(_settleOne(_payMax(alice, q, 108_50, 0)), 1);
    }

    function testRejectZeroAmount() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 0, 0);
        assertEq(p.payAmount, 0);
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.InvalidAmount);
    }

    /// @dev The provider Beta is also the payee's bank, so no reserve check bounds the receive amount; it
    /// must still fit the ledger's 96-bit balances.
    function testRejectReceiveAmountBeyondTheBalanceRange() public {
        uint256 receiveAmount = (uint256(1) << 96) + 5;
        FxQuote memory q = _quote(bankB, CNY, HKD, receiveAmount * 1e16, receiveAmount);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, receiveAmount, 0);
        assertEq(p.payAmount, 100);
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.InvalidAmount);
    }

    // ─────────────────────────────────────── Rejects: payee ──────────────────────────────────────

    function testRejectPayeeWithoutAccountInReceiveCurrency() public {
        // Noor banks with Gamma in CNY only.
        FxQuote memory q = _hkdQuote(bankC);
        _assertRejectedUnchanged(
            _request(_fxPayment(alice, noor, bankC, q, 108_50, 0), alice.key, q),
            RejectReason.ReceiverNotCustomer
        );
    }

    function testRejectPayeeAtAnotherBankThanTheQrSays() public {
        FxQuote memory q = _hkdQuote(bankC);
        _assertRejectedUnchanged(
            _request(_fxPayment(alice, max, bankC, q, 108_50, 0), alice.key, q),
            RejectReason.ReceiverNotCustomer
        );
    }

    function testRejectFrozenPayee() public {
        vm.prank(freezer);
        ledger.setFrozen(max.addr, HKD, true);
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 0), RejectReason.ReceiverFrozen);
    }

    function testRejectPayeeAtSuspendedBank() public {
        vm.prank(operator);
        registry.setBankStatus(bankB, BankStatus.Suspended);
        _assertRejectedUnchanged(
            _payMax(alice, _hkdQuote(bankC), 108_50, 0),
            RejectReason.ReceiverBankInactive
        );
    }

    function testRejectQuoteOfSuspendedProvider() public {
        vm.prank(operator);
        registry.setBankStatus(bankC, BankStatus.Suspended);
        _assertRejectedUnchanged(
            _payMax(alice, _hkdQuote(bankC), 108_50, 0),
            RejectReason.ReceiverBankInactive
        );
    }

    function testRejectDisabledReceiveCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(HKD, false);
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 0), RejectReason.CurrencyDisabled);
    }

    function testRejectDisabledPayCurrency() public {
        vm.prank(operator);
        registry.setCurrencyEnabled(CNY, false);
        _assertRejectedUnchanged(_payMax(alice, _hkdQuote(bankC), 108_50, 0), RejectReason.CurrencyDisabled);
    }

    // ────────────────────────────────────── Rejects: reserves ─────────────────────────────────────

    function testRejectWhenPayerBankReservesRunOutThenSettleWithinDebitCap() public {
        vm.prank(agent);
        ledger.redeemReserves(bankA, CNY, RESERVES - 99_99);
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        _assertRejectedUnchanged(request, RejectReason.InsufficientReserves);

        vm.prank(operator);
        registry.setBankLimits(bankA, CNY, 1, 0);
        assertEq(_settleOne(request), 1);
        assertEq(_reservesIn(bankA, CNY), -1, "bank A draws 0.01 on its debit cap");
        assertEq(_reservesIn(bankC, CNY), int256(RESERVES + 100_00));
    }

    function testRejectWhenProviderReservesRunOutThenSettleWithinDebitCap() public {
        vm.prank(agent);
        ledger.redeemReserves(bankC, HKD, FX_RESERVES - 108_49);
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        _assertRejectedUnchanged(request, RejectReason.InsufficientReserves);

        vm.prank(operator);
        registry.setBankLimits(bankC, HKD, 1, 0);
        assertEq(_settleOne(request), 1);
        assertEq(_reservesIn(bankC, HKD), -1, "the provider draws 0.01 on its HKD debit cap");
        assertEq(_reservesIn(bankB, HKD), int256(RESERVES + 108_50));
    }

    // ─────────────────────────────────────── Rejects: quote ──────────────────────────────────────

    function testRejectPaymentBoundToAnotherQuote() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        p.quoteHash = fx.quoteStructHash(_hkdQuote(bankC));
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.QuoteMismatch);
    }

    function testRejectQuoteImprovedAfterThePayerSigned() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        FxPaymentRequest memory request = _request(p, alice.key, q);
        request.quote.rate = 2e18;
        request.quoteSignature = _signQuote(request.quote, deskC.key);
        _assertRejectedUnchanged(request, RejectReason.QuoteMismatch);
    }

    function testRejectReversedCurrencyPair() public {
        // Bob holds HKD and pays HKD for CNY, naming a CNY→HKD quote.
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(bob, max, bankB, q, 108_50, 0);
        (p.payCurrency, p.receiveCurrency) = (HKD, CNY);
        _assertRejectedUnchanged(_request(p, bob.key, q), RejectReason.QuoteMismatch);
    }

    function testRejectReceiveCurrencyOtherThanQuoted() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        p.receiveCurrency = USD;
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.QuoteMismatch);
    }

    function testRejectPayAmountOneBelowTheQuote() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 100_00, 0);
        assertEq(p.payAmount, 92_17, "HKD 100.00 at 1.0850 is CNY 92.1658..., rounded up");
        p.payAmount = 92_16;
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.QuoteMismatch);
    }

    function testRejectPayAmountOneAboveTheQuote() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 100_00, 0);
        p.payAmount = 92_18;
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.QuoteMismatch);
    }

    function testRejectQuoteSignedByANonRelayer() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPaymentRequest memory request = _payMax(alice, q, 108_50, 0);
        request.quoteSignature = _signQuote(q, _person("stranger").key);
        _assertRejectedUnchanged(request, RejectReason.QuoteInvalid);
    }

    function testRejectQuoteSignedByAnotherBanksRelayer() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPaymentRequest memory request = _payMax(alice, q, 108_50, 0);
        request.quoteSignature = _signQuote(q, deskA.key);
        _assertRejectedUnchanged(request, RejectReason.QuoteInvalid);
    }

    function testRejectQuoteAfterProviderRemovesItsDesk() public {
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        vm.prank(adminC);
        registry.setRelayer(deskC.addr, false);
        _assertRejectedUnchanged(request, RejectReason.QuoteInvalid);
    }

    function testRejectMalformedQuoteSignature() public {
        FxPaymentRequest memory request = _payMax(alice, _hkdQuote(bankC), 108_50, 0);
        request.quoteSignature = "";
        _assertRejectedUnchanged(request, RejectReason.QuoteInvalid);
    }

    function testRejectZeroRateQuote() public {
        FxQuote memory q = _quote(bankC, CNY, HKD, 0, QUOTE_CAPACITY);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        p.payAmount = 1;
        _assertRejectedUnchanged(_request(p, alice.key, q), RejectReason.QuoteInvalid);
    }

    /// @dev Bank 0 does not exist and has no relayers, so nobody can sign a quote for it; any key that is no
    /// bank's relayer must not pass as one.
    function testRejectQuoteForBankZeroSignedByAnyKey() public {
        FxQuote memory q = _quote(0, CNY, HKD, RATE_CNY_HKD, QUOTE_CAPACITY);
        Person memory stranger = _person("stranger");
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        FxPaymentRequest memory request = FxPaymentRequest({
            payment: p,
            payerSignature: _signFx(p, alice.key),
            quote: q,
            quoteSignature: _signQuote(q, stranger.key)
        });
        bytes32 before = _fingerprint(fx.quoteStructHash(q), address(0));

        vm.recordLogs();
        assertEq(_settleOne(request), 0);

        assertEq(
            uint256(_rejection(vm.getRecordedLogs(), fx.hashFxPayment(p))),
            uint256(RejectReason.QuoteInvalid),
            "rejection reason (9 ReceiverBankInactive, 18 QuoteInvalid)"
        );
        assertEq(_fingerprint(fx.quoteStructHash(q), address(0)), before);
    }

    function testRejectQuoteBeforeValidFromThenSettle() public {
        FxQuote memory q = _hkdQuote(bankC);
        q.validFrom = block.timestamp + 1;
        FxPaymentRequest memory request = _payMax(alice, q, 108_50, 0);
        _assertRejectedUnchanged(request, RejectReason.QuoteOutOfWindow);

        vm.warp(block.timestamp + 1);
        assertEq(_settleOne(request), 1);
    }

    function testRejectQuoteAfterExpiry() public {
        FxQuote memory q = _hkdQuote(bankC);
        q.expiry = block.timestamp + 10 minutes;
        FxPaymentRequest memory request = _payMax(alice, q, 108_50, 0);
        vm.warp(q.expiry + 1);
        _assertRejectedUnchanged(request, RejectReason.QuoteOutOfWindow);
    }

    // ──────────────────────────────── Quote signature, once per batch ────────────────────────────

    function testQuoteSignatureVerifiedOnceCoversLaterItemsWithTheSameQuote() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](2);
        batch[0] = _payMax(alice, q, 108_50, 0);
        batch[1] = _payMax(bob, q, 108_50, 0);
        // The provider signed exactly these terms for the first item; the second binds the same quote hash.
        batch[1].quoteSignature = "";
        assertEq(_settleFx(relayerA, batch), 2);
        assertEq(fx.quoteUsed(fx.quoteStructHash(q)), 217_00);
    }

    function testQuoteSignatureVerifiedOnceDoesNotCoverAnotherQuote() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxQuote memory other = _hkdQuote(bankC);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](2);
        batch[0] = _payMax(alice, q, 108_50, 0);
        batch[1] = _payMax(bob, other, 108_50, 0);
        batch[1].quoteSignature = batch[0].quoteSignature;
        _expectFxRejected(batch[1].payment, RejectReason.QuoteInvalid);
        assertEq(_settleFx(relayerA, batch), 1);
        assertEq(fx.quoteUsed(fx.quoteStructHash(other)), 0);
    }

    function testQuoteSignatureOfAnItemRejectedBeforeTheQuoteCheckCoversNothing() public {
        FxQuote memory q = _hkdQuote(bankC);
        FxPayment memory expired = _fxPayment(alice, max, bankB, q, 108_50, 0);
        expired.deadline = block.timestamp - 1;
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](2);
        batch[0] = _request(expired, alice.key, q);
        batch[1] = _payMax(bob, q, 108_50, 0);
        batch[1].quoteSignature = _signQuote(q, _person("stranger").key);
        _expectFxRejected(expired, RejectReason.Expired);
        _expectFxRejected(batch[1].payment, RejectReason.QuoteInvalid);
        assertEq(_settleFx(relayerA, batch), 0);
    }

    // ─────────────────────────────────────── One bad item ────────────────────────────────────────

    function testRejectedItemsDoNotStopTheOthers() public {
        FxQuote memory q = _quote(bankC, CNY, HKD, RATE_CNY_HKD, 300_00);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](5);
        batch[0] = _payMax(alice, q, 108_50, 0);
        batch[1] = _request(_fxPayment(bob, max, bankB, q, 108_50, 0), alice.key, q); // wrong signer
        batch[2] = _payMax(bob, q, 200_00, 1); // beyond the quote
        batch[3] = _payMax(carol, q, 1_00, 0); // not A's customer
        batch[4] = _payMax(bob, q, 108_50, 2);

        _expectFxRejected(batch[1].payment, RejectReason.InvalidSignature);
        _expectFxRejected(batch[2].payment, RejectReason.QuoteExhausted);
        _expectFxRejected(batch[3].payment, RejectReason.SenderNotCustomer);
        assertEq(_settleFx(relayerA, batch), 2);

        assertEq(_balanceIn(max, HKD), 217_00);
        assertEq(_balanceIn(bob, CNY), OPENING_BALANCE - 100_00);
        assertEq(fx.quoteUsed(fx.quoteStructHash(q)), 217_00);
        assertFalse(ledger.isNonceUsed(bob.addr, CNY, 0), "rejected items leave their nonces unused");
        assertFalse(ledger.isNonceUsed(bob.addr, CNY, 1));
        assertFalse(ledger.isNonceUsed(carol.addr, CNY, 0));
    }

    /// @dev A payer may sign any receive amount; one whose pay amount would exceed 2^256 is beyond the ledger's
    /// 96-bit balances and is rejected as an invalid amount, without reverting its batch.
    function testOverflowingPayAmountDoesNotStopTheOthers() public {
        FxQuote memory q = _quote(bankC, JPY, USD, RATE_JPY_USD, type(uint256).max);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](2);
        batch[0] = _payMax(alice, q, 67, 0);
        FxPayment memory huge = _fxPayment(alice, max, bankB, q, 67, 1);
        huge.receiveAmount = type(uint256).max;
        huge.payAmount = 1;
        batch[1] = _request(huge, alice.key, q);

        vm.recordLogs();
        assertEq(_settleWithoutRevert(relayerA, batch), 1);
        assertEq(
            uint256(_rejection(vm.getRecordedLogs(), fx.hashFxPayment(huge))),
            uint256(RejectReason.InvalidAmount)
        );
        assertEq(_balanceIn(max, USD), 67);
    }

    /// @dev Likewise a receive amount that would overflow the quote's usage is rejected (beyond 96 bits, an
    /// invalid amount), not a revert of its batch.
    function testOverflowingQuoteUsageDoesNotStopTheOthers() public {
        FxQuote memory q = _quote(bankC, USD, BHD, RATE_USD_BHD, QUOTE_CAPACITY);
        assertEq(_settleOne(_payMax(alice, q, 376, 0)), 1);

        FxPayment memory huge = _fxPayment(alice, max, bankB, q, 376, 1);
        huge.receiveAmount = type(uint256).max;
        huge.payAmount = fx.payAmountFor(type(uint256).max, RATE_USD_BHD);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](2);
        batch[0] = _request(huge, alice.key, q);
        batch[1] = _payMax(alice, q, 376, 2);
        vm.recordLogs();
        assertEq(_settleWithoutRevert(relayerA, batch), 1);
        assertEq(
            uint256(_rejection(vm.getRecordedLogs(), fx.hashFxPayment(huge))),
            uint256(RejectReason.InvalidAmount)
        );
        assertEq(_balanceIn(max, BHD), 752);
    }

    // ──────────────────────────────────────── Caller errors ───────────────────────────────────────

    function testRevertWhenCallerIsNotARelayer() public {
        FxPaymentRequest[] memory batch = _oneFx(_payMax(alice, _hkdQuote(bankC), 108_50, 0));
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.UnauthorizedRelayer.selector, adminA));
        vm.prank(adminA);
        fx.settleFxPayments(batch);
    }

    function testRevertWhenPayerBankIsSuspended() public {
        FxPaymentRequest[] memory batch = _oneFx(_payMax(alice, _hkdQuote(bankC), 108_50, 0));
        vm.prank(operator);
        registry.setBankStatus(bankA, BankStatus.Suspended);
        vm.expectRevert(abi.encodeWithSelector(IBankRegistry.BankNotActive.selector, bankA));
        vm.prank(relayerA);
        fx.settleFxPayments(batch);
    }

    function testRevertWhenPaused() public {
        FxPaymentRequest[] memory batch = _oneFx(_payMax(alice, _hkdQuote(bankC), 108_50, 0));
        vm.prank(pauser);
        registry.pause();
        vm.expectRevert(ISettlementLedger.NetworkPaused.selector);
        vm.prank(relayerA);
        fx.settleFxPayments(batch);
    }

    function testRevertOnEmptyBatch() public {
        vm.expectRevert(IFxSettlement.EmptyBatch.selector);
        vm.prank(relayerA);
        fx.settleFxPayments(new FxPaymentRequest[](0));
    }

    function testRevertWhenFxModuleLosesItsRole() public {
        FxPaymentRequest[] memory batch = _oneFx(_payMax(alice, _hkdQuote(bankC), 108_50, 0));
        vm.prank(governor);
        registry.revokeRole(FX_SETTLEMENT_ROLE, address(fx));
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementLedger.MissingRole.selector, address(fx), FX_SETTLEMENT_ROLE)
        );
        vm.prank(relayerA);
        fx.settleFxPayments(batch);
    }

    function testLedgerSettleCrossCurrencyOnlyForTheFxRole() public {
        CrossCurrencyPayment memory p = CrossCurrencyPayment({
            paymentId: keccak256("forged"),
            qrHash: keccak256("qr"),
            payer: alice.addr,
            payee: max.addr,
            payerBank: bankA,
            providerBank: bankC,
            payeeBank: bankB,
            payCurrency: CNY,
            receiveCurrency: HKD,
            payAmount: 1_00,
            receiveAmount: 1_000_000_00,
            nonce: 0
        });
        address[3] memory callers = [relayerA, governor, deskC.addr];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(ISettlementLedger.MissingRole.selector, callers[i], FX_SETTLEMENT_ROLE)
            );
            vm.prank(callers[i]);
            ledger.settleCrossCurrency(p);
        }
        assertEq(_balanceIn(alice, CNY), OPENING_BALANCE);
        assertEq(_balanceIn(max, HKD), 0);
    }

    // ──────────────────────────────────────────── Fuzz ────────────────────────────────────────────

    /// @dev ceil(receive · 1e18 / rate) settles; one minor unit less or more is a mismatch.
    function testFuzzOnlyTheRoundedUpPayAmountIsAccepted(
        uint256 pairSeed,
        uint256 rate,
        uint256 receiveAmount
    ) public {
        (uint16 from, uint16 to) = _pair(pairSeed);
        rate = bound(rate, 1e15, 1e21);
        receiveAmount = bound(receiveAmount, 1, _maxReceive(rate));
        FxQuote memory q = _quote(bankC, from, to, rate, QUOTE_CAPACITY);
        uint256 exact = _ceilPay(receiveAmount, rate);
        assertEq(fx.payAmountFor(receiveAmount, rate), exact);

        FxPaymentRequest[] memory batch = new FxPaymentRequest[](3);
        FxPayment memory below = _fxPayment(alice, max, bankB, q, receiveAmount, 0);
        below.payAmount = exact - 1;
        FxPayment memory above = _fxPayment(alice, max, bankB, q, receiveAmount, 1);
        above.payAmount = exact + 1;
        batch[0] = _request(below, alice.key, q);
        batch[1] = _request(above, alice.key, q);
        batch[2] = _payMax(alice, q, receiveAmount, 2);

        _expectFxRejected(below, RejectReason.QuoteMismatch);
        _expectFxRejected(above, RejectReason.QuoteMismatch);
        assertEq(_settleFx(relayerA, batch), 1);
        assertEq(_balanceIn(alice, from), FX_BALANCE - exact);
        assertEq(_balanceIn(max, to), receiveAmount);
    }

    /// @dev Rounding never favours the payer: the payer pays at least the quoted value, and at most one minor
    /// unit more than the exact value.
    function testFuzzPayerNeverPaysLessThanQuotedValue(uint256 receiveAmount, uint256 rate) public view {
        receiveAmount = bound(receiveAmount, 0, type(uint96).max);
        rate = bound(rate, 1, 1e36);
        uint256 pay = fx.payAmountFor(receiveAmount, rate);
        assertGe(pay * rate, receiveAmount * 1e18, "payer pays less than the quoted value");
        if (pay == 0) assertEq(receiveAmount, 0);
        else assertLt((pay - 1) * rate, receiveAmount * 1e18, "payer pays a whole unit more than exact");
    }

    /// @dev Through any provider, an FX payment moves reserves between banks in each currency and never
    /// creates or destroys any; the payer pays exactly its pay amount and the merchant gets exactly its
    /// receive amount.
    function testFuzzFxPaymentConservesReservesPerCurrency(
        uint256 pairSeed,
        uint256 providerSeed,
        uint256 rate,
        uint256 receiveAmount
    ) public {
        (uint16 from, uint16 to) = _pair(pairSeed);
        uint16 provider = uint16(bound(providerSeed, 1, 3));
        rate = bound(rate, 1e15, 1e21);
        receiveAmount = bound(receiveAmount, 1, _maxReceive(rate));
        FxQuote memory q = _quote(provider, from, to, rate, QUOTE_CAPACITY);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, receiveAmount, 0);
        int256[3][2] memory reservesBefore = [_reservesOfBanks(from), _reservesOfBanks(to)];
        Supply memory fromSupply = ledger.getSupply(from);
        Supply memory toSupply = ledger.getSupply(to);

        assertEq(_settleOne(_request(p, alice.key, q)), 1);

        assertEq(ledger.getSupply(from).reserves, fromSupply.reserves);
        assertEq(ledger.getSupply(to).reserves, toSupply.reserves);
        assertEq(_sumReserves(from), int256(uint256(fromSupply.reserves)));
        assertEq(_sumReserves(to), int256(uint256(toSupply.reserves)));
        assertEq(_balanceIn(alice, from), FX_BALANCE - p.payAmount);
        assertEq(_balanceIn(max, to), receiveAmount);
        int256 paid = provider == bankA ? int256(0) : int256(p.payAmount);
        int256 received = provider == bankB ? int256(0) : int256(receiveAmount);
        assertEq(_reservesIn(bankA, from), reservesBefore[0][0] - paid, "payer bank, pay currency");
        assertEq(
            _reservesIn(provider, from),
            reservesBefore[0][provider - 1] + paid,
            "provider, pay currency"
        );
        assertEq(
            _reservesIn(provider, to),
            reservesBefore[1][provider - 1] - received,
            "provider, receive currency"
        );
        assertEq(_reservesIn(bankB, to), reservesBefore[1][1] + received, "payee bank, receive currency");
    }

    /// @dev Through any provider, each bank's deposit position stays the sum of its customers' balances, and
    /// each currency's deposit supply moves by exactly what left or entered it.
    function testFuzzFxPaymentKeepsDepositPositionsEqualToCustomers(
        uint256 pairSeed,
        uint256 providerSeed,
        uint256 rate,
        uint256 receiveAmount
    ) public {
        (uint16 from, uint16 to) = _pair(pairSeed);
        uint16 provider = uint16(bound(providerSeed, 1, 3));
        rate = bound(rate, 1e15, 1e21);
        receiveAmount = bound(receiveAmount, 1, _maxReceive(rate));
        FxQuote memory q = _quote(provider, from, to, rate, QUOTE_CAPACITY);
        FxPayment memory p = _fxPayment(alice, max, bankB, q, receiveAmount, 0);
        Supply memory fromSupply = ledger.getSupply(from);
        Supply memory toSupply = ledger.getSupply(to);

        assertEq(_settleOne(_request(p, alice.key, q)), 1);

        _assertDepositPositionsMatchCustomers(from);
        _assertDepositPositionsMatchCustomers(to);
        assertEq(ledger.getSupply(from).deposits, fromSupply.deposits - p.payAmount);
        assertEq(ledger.getSupply(to).deposits, toSupply.deposits + receiveAmount);
        assertEq(_sumDepositPositions(from), ledger.getSupply(from).deposits);
        assertEq(_sumDepositPositions(to), ledger.getSupply(to).deposits);
    }

    /// @dev No key but the payer's can authorise an FX payment.
    function testFuzzRejectPayerSignatureFromAnyOtherKey(uint256 key) public {
        key = bound(key, 1, SECP256K1_ORDER - 1);
        vm.assume(key != alice.key);
        FxQuote memory q = _hkdQuote(bankC);
        _assertRejectedUnchanged(
            _request(_fxPayment(alice, max, bankB, q, 108_50, 0), key, q),
            RejectReason.InvalidSignature
        );
    }

    /// @dev A quote is usable from `validFrom` through `expiry`, both included, and at no other time.
    function testFuzzQuoteWindow(uint256 startOffset, uint256 length, uint256 elapsed) public {
        startOffset = bound(startOffset, 0, 1 days);
        length = bound(length, 0, 1 days);
        elapsed = bound(elapsed, 0, 3 days);
        FxQuote memory q = _hkdQuote(bankC);
        q.validFrom = block.timestamp + startOffset;
        q.expiry = q.validFrom + length;
        FxPayment memory p = _fxPayment(alice, max, bankB, q, 108_50, 0);
        p.deadline = block.timestamp + 4 days;
        FxPaymentRequest memory request = _request(p, alice.key, q);
        vm.warp(block.timestamp + elapsed);

        bool inWindow = block.timestamp >= q.validFrom && block.timestamp <= q.expiry;
        if (!inWindow) _expectFxRejected(p, RejectReason.QuoteOutOfWindow);
        assertEq(_settleOne(request), inWindow ? 1 : 0);
    }

    /// @dev However payments are sized, a quote never delivers more than its maximum, and its usage is the
    /// sum of what the settled payments received.
    function testFuzzQuoteNeverDeliversBeyondItsMaximum(uint256 capacity, uint256[4] memory amounts) public {
        capacity = bound(capacity, 1, 1_000_00);
        FxQuote memory q = _quote(bankC, CNY, HKD, RATE_CNY_HKD, capacity);
        FxPaymentRequest[] memory batch = new FxPaymentRequest[](amounts.length);
        uint256 expectedUse;
        for (uint256 i; i < amounts.length; ++i) {
            amounts[i] = bound(amounts[i], 1, 600_00);
            batch[i] = _payMax(alice, q, amounts[i], i);
            if (expectedUse + amounts[i] <= capacity) expectedUse += amounts[i];
        }

        _settleFx(relayerA, batch);

        assertEq(fx.quoteUsed(fx.quoteStructHash(q)), expectedUse);
        assertLe(expectedUse, capacity);
        assertEq(_balanceIn(max, HKD), expectedUse);
    }

    // ─────────────────────────────────────────── Helpers ──────────────────────────────────────────

    /// @dev A fresh CNY→HKD quote of `provider` at 1.0850, of the default capacity.
    function _hkdQuote(uint16 provider) private returns (FxQuote memory) {
        return _quote(provider, CNY, HKD, RATE_CNY_HKD, QUOTE_CAPACITY);
    }

    /// @dev `payer` pays Max at Beta `receiveAmount` at `q`, signed by `payer`, the quote by its provider's desk.
    function _payMax(
        Person memory payer,
        FxQuote memory q,
        uint256 receiveAmount,
        uint256 nonce
    ) private view returns (FxPaymentRequest memory) {
        return _request(_fxPayment(payer, max, bankB, q, receiveAmount, nonce), payer.key, q);
    }

    /// @dev Submits `request` alone through Alpha's relayer (Alice's and Bob's bank); returns how many settled.
    function _settleOne(FxPaymentRequest memory request) private returns (uint256) {
        return _settleFx(relayerA, _oneFx(request));
    }

    /// @dev Expects the ledger's CrossCurrencySettled of Alice's usual payment `p` at a quote of `provider`:
    /// CNY 100.00 from bank A to the provider, HKD 108.50 from the provider to Max at bank B.
    function _expectUsualPaymentSettled(FxPayment memory p, uint16 provider) private {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.CrossCurrencySettled(
            alice.addr,
            max.addr,
            fx.hashFxPayment(p),
            p.qrHash,
            _terms(100_00, bankA, provider, CNY),
            _terms(108_50, provider, bankB, HKD)
        );
    }

    /// @dev Expects the FX module's QuoteUsed of `q` for `receiveAmount`, bringing its usage to `used`.
    function _expectQuoteUsed(FxQuote memory q, uint256 receiveAmount, uint256 used) private {
        vm.expectEmit(address(fx));
        emit IFxSettlement.QuoteUsed(fx.quoteStructHash(q), q.provider, q.quoteId, receiveAmount, used);
    }

    /// @dev One of the six ordered pairs of JPY (exponent 0), USD (2) and BHD (3).
    function _pair(uint256 seed) private pure returns (uint16 from, uint16 to) {
        uint16[3] memory list = [JPY, USD, BHD];
        uint256 i = seed % 3;
        from = list[i];
        to = list[(i + 1 + ((seed / 3) % 2)) % 3];
    }

    /// @dev The most a merchant can receive at `rate` from Alice's balance in any FX currency.
    function _maxReceive(uint256 rate) private pure returns (uint256) {
        uint256 affordable = (FX_BALANCE * rate) / 1e18;
        return affordable < 1e9 ? affordable : 1e9;
    }

    function _reservesOfBanks(uint16 currency) private view returns (int256[3] memory r) {
        for (uint16 b = 1; b <= 3; ++b) r[b - 1] = _reservesIn(b, currency);
    }

    function _allCustomers(uint16 currency) private view returns (uint256 sum) {
        for (uint16 b = 1; b <= 3; ++b) sum += _customersAt(b, currency);
    }

    function _assertDepositPositionsMatchCustomers(uint16 currency) private view {
        for (uint16 b = 1; b <= 3; ++b) {
            assertEq(
                _depositsIn(b, currency),
                _customersAt(b, currency),
                string.concat(
                    "bank ",
                    vm.toString(b),
                    " deposits != its customers in ",
                    vm.toString(currency)
                )
            );
        }
    }

    /// @dev Settles `batch`, failing with the revert data if the call reverts (a Panic(0x11) is
    /// 0x4e487b71…11).
    function _settleWithoutRevert(
        address relayer,
        FxPaymentRequest[] memory batch
    ) private returns (uint256 settled) {
        vm.prank(relayer);
        try fx.settleFxPayments(batch) returns (uint256 count) {
            settled = count;
        } catch (bytes memory reason) {
            assertTrue(false, string.concat("a bad item reverted the whole batch: ", vm.toString(reason)));
        }
    }

    /// @dev The reason of the FX module's `PaymentRejected` for `paymentId` among `logs`; None if absent.
    function _rejection(Vm.Log[] memory logs, bytes32 paymentId) private view returns (RejectReason) {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (
                log.emitter == address(fx) &&
                log.topics[0] == IFxSettlement.PaymentRejected.selector &&
                log.topics[1] == paymentId
            ) {
                return abi.decode(log.data, (RejectReason));
            }
        }
        return RejectReason.None;
    }

    /// @dev How many of the recorded logs the ledger and the FX module emitted (the test's own `emit`s for
    /// `vm.expectEmit` are recorded too).
    function _settlementLogs() private returns (uint256 count) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(ledger) || logs[i].emitter == address(fx)) ++count;
        }
    }

    function _assertRejectedUnchanged(FxPaymentRequest memory request, RejectReason reason) private {
        _assertRejectedUnchanged(relayerA, request, reason, address(0));
    }

    /// @dev Submits `request` alone; checks it was rejected for `reason`, that the rejection is the call's only
    /// event, and that no account, nonce, limit, position, supply or quote usage changed.
    function _assertRejectedUnchanged(
        address relayer,
        FxPaymentRequest memory request,
        RejectReason reason,
        address extra
    ) private {
        bytes32 quoteHash = fx.quoteStructHash(request.quote);
        bytes32 before = _fingerprint(quoteHash, extra);
        uint256 signedQuoteUse = fx.quoteUsed(request.payment.quoteHash);

        vm.recordLogs();
        _expectFxRejected(request.payment, reason);
        uint256 settled = _settleFx(relayer, _oneFx(request));

        assertEq(settled, 0);
        assertEq(_settlementLogs(), 1, "the rejection is the only event");
        assertEq(_fingerprint(quoteHash, extra), before, "a rejected payment changed state");
        assertEq(fx.quoteUsed(request.payment.quoteHash), signedQuoteUse);
    }
}
