// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {FxSettlement} from "../../../contracts/FxSettlement.sol";
import {
    FxPayment,
    FxPaymentRequest,
    FxQuote,
    IFxSettlement
} from "../../../contracts/interfaces/IFxSettlement.sol";
import {
    AccountView,
    CustomerLimit,
    RejectReason,
    Supply
} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {LedgerTest} from "./LedgerTest.sol";

/// @notice The ledger's network of three banks with an FX module and three more currencies of other exponents:
/// JPY (0), USD (2) and BHD (3).
///
/// Every bank holds reserves in every currency. Each bank has an FX desk: a relayer key that signs its quotes.
/// Gamma (C) is the usual FX provider; its customer Hana holds deposits in every currency, as a provider's
/// customers would. Alice (A) pays in CNY, JPY, USD or BHD; Bob (A) also holds HKD; Max (B) is paid in every
/// currency.
abstract contract FxTest is LedgerTest {
    uint16 internal constant JPY = 392;
    uint16 internal constant USD = 840;
    uint16 internal constant BHD = 48;

    /// @dev 1 CNY = 1.0850 HKD, both exponent 2.
    uint256 internal constant RATE_CNY_HKD = 1.085e18;
    /// @dev 1 JPY = 0.0067 USD: 0.67 cents per yen.
    uint256 internal constant RATE_JPY_USD = 0.67e18;
    /// @dev 1 USD = 0.376 BHD: 3.76 fils per cent.
    uint256 internal constant RATE_USD_BHD = 3.76e18;

    /// @dev Reserves of every bank in HKD, JPY, USD and BHD, in minor units.
    uint256 internal constant FX_RESERVES = 1e12;
    /// @dev Alice's opening balance in JPY, USD and BHD, and Bob's in HKD.
    uint256 internal constant FX_BALANCE = 1e10;
    /// @dev Hana's balance (at the provider) in every currency.
    uint256 internal constant PROVIDER_CUSTOMER_BALANCE = 1e11;
    /// @dev A quote's default capacity, in the target currency's minor units.
    uint256 internal constant QUOTE_CAPACITY = 1e11;

    FxSettlement internal fx;

    Person internal hana;
    Person internal deskA;
    Person internal deskB;
    Person internal deskC;

    uint256 private quoteCount;

    function setUp() public virtual override {
        super.setUp();
        hana = _person("hana");
        deskA = _person("fxDeskA");
        deskB = _person("fxDeskB");
        deskC = _person("fxDeskC");

        fx = new FxSettlement(registry, ledger);
        bytes32 fxRole = registry.FX_SETTLEMENT_ROLE();
        vm.prank(governor);
        registry.grantRole(fxRole, address(fx));

        vm.startPrank(operator);
        registry.addCurrency(JPY, 0);
        registry.addCurrency(USD, 2);
        registry.addCurrency(BHD, 3);
        vm.stopPrank();

        vm.prank(adminA);
        registry.setRelayer(deskA.addr, true);
        vm.prank(adminB);
        registry.setRelayer(deskB.addr, true);
        vm.prank(adminC);
        registry.setRelayer(deskC.addr, true);

        uint16[4] memory fxCurrencies = [HKD, JPY, USD, BHD];
        vm.startPrank(agent);
        ledger.issueReserves(bankA, HKD, FX_RESERVES);
        ledger.issueReserves(bankC, HKD, FX_RESERVES);
        for (uint256 i = 1; i < fxCurrencies.length; ++i) {
            ledger.issueReserves(bankA, fxCurrencies[i], FX_RESERVES);
            ledger.issueReserves(bankB, fxCurrencies[i], FX_RESERVES);
            ledger.issueReserves(bankC, fxCurrencies[i], FX_RESERVES);
        }
        vm.stopPrank();

        vm.startPrank(adminA);
        ledger.issueDeposits(bob.addr, HKD, FX_BALANCE);
        ledger.issueDeposits(alice.addr, JPY, FX_BALANCE);
        ledger.issueDeposits(alice.addr, USD, FX_BALANCE);
        ledger.issueDeposits(alice.addr, BHD, FX_BALANCE);
        vm.stopPrank();
        vm.startPrank(adminB);
        ledger.openAccount(max.addr, JPY);
        ledger.openAccount(max.addr, USD);
        ledger.openAccount(max.addr, BHD);
        vm.stopPrank();
        vm.startPrank(adminC);
        ledger.issueDeposits(hana.addr, CNY, PROVIDER_CUSTOMER_BALANCE);
        for (uint256 i; i < fxCurrencies.length; ++i) {
            ledger.issueDeposits(hana.addr, fxCurrencies[i], PROVIDER_CUSTOMER_BALANCE);
        }
        vm.stopPrank();
    }

    // ───────────────────────────────────────── Quotes ───────────────────────────────────────────

    /// @dev A quote valid from now for an hour, with a fresh quote id.
    function _quote(
        uint16 provider,
        uint16 fromCurrency,
        uint16 toCurrency,
        uint256 rate,
        uint256 maxToAmount
    ) internal returns (FxQuote memory) {
        return
            FxQuote({
                provider: provider,
                fromCurrency: fromCurrency,
                toCurrency: toCurrency,
                rate: rate,
                maxToAmount: maxToAmount,
                validFrom: block.timestamp,
                expiry: block.timestamp + 1 hours,
                quoteId: keccak256(abi.encode("quote", ++quoteCount))
            });
    }

    /// @dev 65-byte r ‖ s ‖ v signature of the quote's EIP-712 digest.
    function _signQuote(FxQuote memory q, uint256 key) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, fx.hashQuote(q));
        return abi.encodePacked(r, s, v);
    }

    function _deskOf(uint16 bankId) internal view returns (Person memory) {
        if (bankId == bankA) return deskA;
        if (bankId == bankB) return deskB;
        return deskC;
    }

    // ──────────────────────────────────────── Payments ──────────────────────────────────────────

    /// @dev `payer` pays `payee` at `payeeBank` `receiveAmount` of the quote's target currency, paying what the
    /// contract computes for it.
    function _fxPayment(
        Person memory payer,
        Person memory payee,
        uint16 payeeBank,
        FxQuote memory q,
        uint256 receiveAmount,
        uint256 nonce
    ) internal view returns (FxPayment memory) {
        return
            FxPayment({
                payer: payer.addr,
                payee: payee.addr,
                payeeBank: payeeBank,
                payCurrency: q.fromCurrency,
                payAmount: _ceilPay(receiveAmount, q.rate),
                receiveCurrency: q.toCurrency,
                receiveAmount: receiveAmount,
                quoteHash: fx.quoteStructHash(q),
                qrHash: keccak256(abi.encodePacked("qr:", payee.addr, q.toCurrency, receiveAmount)),
                nonce: nonce,
                deadline: block.timestamp + 1 hours
            });
    }

    /// @dev The pay amount computed independently of the contract: ceil(receive · 1e18 / rate).
    function _ceilPay(uint256 receiveAmount, uint256 rate) internal pure returns (uint256) {
        if (rate == 0) return 0;
        return (receiveAmount * 1e18 + rate - 1) / rate;
    }

    function _signFx(FxPayment memory p, uint256 key) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, fx.hashFxPayment(p));
        return abi.encodePacked(r, s, v);
    }

    function _signFxCompact(FxPayment memory p, uint256 key) internal view returns (bytes memory) {
        (bytes32 r, bytes32 vs) = vm.signCompact(key, fx.hashFxPayment(p));
        return abi.encodePacked(r, vs);
    }

    /// @dev A request with the payer's and the provider desk's 65-byte signatures.
    function _request(
        FxPayment memory p,
        uint256 payerKey,
        FxQuote memory q
    ) internal view returns (FxPaymentRequest memory) {
        return
            FxPaymentRequest({
                payment: p,
                payerSignature: _signFx(p, payerKey),
                quote: q,
                quoteSignature: _signQuote(q, _deskOf(q.provider).key)
            });
    }

    function _oneFx(FxPaymentRequest memory r) internal pure returns (FxPaymentRequest[] memory batch) {
        batch = new FxPaymentRequest[](1);
        batch[0] = r;
    }

    function _settleFx(address relayer, FxPaymentRequest[] memory batch) internal returns (uint256 settled) {
        vm.prank(relayer);
        return fx.settleFxPayments(batch);
    }

    /// @dev Expects the FX module's PaymentRejected for `p` with `reason` in the next call.
    function _expectFxRejected(FxPayment memory p, RejectReason reason) internal {
        vm.expectEmit(address(fx));
        emit IFxSettlement.PaymentRejected(fx.hashFxPayment(p), p.payer, reason);
    }

    // ───────────────────────────────────────── Reading ──────────────────────────────────────────

    function _currencies() internal pure returns (uint16[5] memory) {
        return [CNY, HKD, JPY, USD, BHD];
    }

    function _people() internal view returns (Person[7] memory) {
        return [alice, bob, mia, carol, max, noor, hana];
    }

    function _balanceIn(Person memory p, uint16 currency) internal view returns (uint256) {
        return ledger.balanceOf(p.addr, currency);
    }

    function _reservesIn(uint16 bankId, uint16 currency) internal view returns (int256 reserves) {
        (reserves, ) = ledger.getPosition(bankId, currency);
    }

    function _depositsIn(uint16 bankId, uint16 currency) internal view returns (uint256 deposits) {
        (, deposits) = ledger.getPosition(bankId, currency);
    }

    function _sumReserves(uint16 currency) internal view returns (int256 sum) {
        for (uint16 b = 1; b <= 3; ++b) sum += _reservesIn(b, currency);
    }

    function _sumDepositPositions(uint16 currency) internal view returns (uint256 sum) {
        for (uint16 b = 1; b <= 3; ++b) sum += _depositsIn(b, currency);
    }

    /// @dev What the named people banking with `bankId` hold in `currency`.
    function _customersAt(uint16 bankId, uint16 currency) internal view returns (uint256 sum) {
        Person[7] memory people = _people();
        for (uint256 i; i < people.length; ++i) {
            if (ledger.getAccount(people[i].addr, currency).bankId == bankId) {
                sum += ledger.balanceOf(people[i].addr, currency);
            }
        }
    }

    /// @dev A digest of everything a settlement could touch: every named account (and `extra`) in every
    /// currency with its nonce window, flags and daily limit, every bank position, every supply, and the
    /// quote's usage.
    function _fingerprint(bytes32 quoteHash, address extra) internal view returns (bytes32 digest) {
        uint16[5] memory currencies = _currencies();
        Person[7] memory people = _people();
        for (uint256 c; c < currencies.length; ++c) {
            uint16 currency = currencies[c];
            for (uint256 i; i <= people.length; ++i) {
                address account = i == people.length ? extra : people[i].addr;
                AccountView memory a = ledger.getAccount(account, currency);
                CustomerLimit memory limit = ledger.getCustomerLimit(account, currency);
                digest = keccak256(abi.encode(digest, a, limit));
            }
            for (uint16 b = 1; b <= 3; ++b) {
                (int256 reserves, uint256 deposits) = ledger.getPosition(b, currency);
                digest = keccak256(abi.encode(digest, reserves, deposits));
            }
            Supply memory supply = ledger.getSupply(currency);
            digest = keccak256(abi.encode(digest, supply));
        }
        digest = keccak256(abi.encode(digest, fx.quoteUsed(quoteHash)));
    }
}
