// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {BankRegistry} from "../../../contracts/BankRegistry.sol";
import {SettlementLedger} from "../../../contracts/SettlementLedger.sol";
import {
    ISettlementLedger,
    Payment,
    Refund,
    RefundRequest,
    RejectReason
} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {BatchEncoder, SignedPayment} from "./BatchEncoder.sol";

/// @notice A network of three banks in two currencies, with named people, shared by the ledger's tests.
///
/// Bank A ("Alpha") holds customers Alice and Bob and merchant Mia; bank B ("Beta") holds customer Carol and
/// merchant Max; bank C ("Gamma") holds merchant Noor. Everyone banks in CNY; Max also takes HKD.
abstract contract LedgerTest is Test {
    uint16 internal constant CNY = 156;
    uint16 internal constant HKD = 344;
    uint256 internal constant START_TIME = 1_800_000_000;
    uint256 internal constant RESERVES = 1_000_000_00;
    uint256 internal constant OPENING_BALANCE = 10_000_00;

    struct Person {
        address addr;
        uint256 key;
    }

    BankRegistry internal registry;
    SettlementLedger internal ledger;

    address internal governor = makeAddr("governor");
    address internal operator = makeAddr("operator");
    address internal agent = makeAddr("settlementAgent");
    address internal pauser = makeAddr("pauser");
    address internal freezer = makeAddr("freezer");
    address internal enforcer = makeAddr("enforcer");

    address internal adminA = makeAddr("adminA");
    address internal adminB = makeAddr("adminB");
    address internal adminC = makeAddr("adminC");
    address internal relayerA = makeAddr("relayerA");
    address internal relayerB = makeAddr("relayerB");
    address internal relayerC = makeAddr("relayerC");
    uint16 internal bankA;
    uint16 internal bankB;
    uint16 internal bankC;

    Person internal alice;
    Person internal bob;
    Person internal carol;
    Person internal mia;
    Person internal max;
    Person internal noor;

    function setUp() public virtual {
        vm.warp(START_TIME);
        alice = _person("alice");
        bob = _person("bob");
        carol = _person("carol");
        mia = _person("mia");
        max = _person("max");
        noor = _person("noor");

        registry = new BankRegistry(governor, 1 days);
        ledger = new SettlementLedger(registry);

        vm.startPrank(governor);
        registry.grantRole(registry.OPERATOR_ROLE(), operator);
        registry.grantRole(registry.SETTLEMENT_AGENT_ROLE(), agent);
        registry.grantRole(registry.PAUSER_ROLE(), pauser);
        registry.grantRole(registry.FREEZER_ROLE(), freezer);
        registry.grantRole(registry.ENFORCER_ROLE(), enforcer);
        vm.stopPrank();

        vm.startPrank(operator);
        registry.addCurrency(CNY, 2);
        registry.addCurrency(HKD, 2);
        bankA = registry.registerBank("ALPHCNSHXXX", "Alpha Bank", adminA);
        bankB = registry.registerBank("BETAHKHHXXX", "Beta Bank", adminB);
        bankC = registry.registerBank("GAMMSGSGXXX", "Gamma Bank", adminC);
        vm.stopPrank();

        vm.prank(adminA);
        registry.setRelayer(relayerA, true);
        vm.prank(adminB);
        registry.setRelayer(relayerB, true);
        vm.prank(adminC);
        registry.setRelayer(relayerC, true);

        vm.startPrank(agent);
        ledger.issueReserves(bankA, CNY, RESERVES);
        ledger.issueReserves(bankB, CNY, RESERVES);
        ledger.issueReserves(bankC, CNY, RESERVES);
        ledger.issueReserves(bankB, HKD, RESERVES);
        vm.stopPrank();

        vm.startPrank(adminA);
        ledger.issueDeposits(alice.addr, CNY, OPENING_BALANCE);
        ledger.issueDeposits(bob.addr, CNY, OPENING_BALANCE);
        ledger.openAccount(mia.addr, CNY);
        vm.stopPrank();
        vm.startPrank(adminB);
        ledger.issueDeposits(carol.addr, CNY, OPENING_BALANCE);
        ledger.openAccount(max.addr, CNY);
        ledger.openAccount(max.addr, HKD);
        vm.stopPrank();
        vm.prank(adminC);
        ledger.openAccount(noor.addr, CNY);
    }

    // ───────────────────────────────────────── Helpers ──────────────────────────────────────────

    function _person(string memory name) internal returns (Person memory p) {
        (p.addr, p.key) = makeAddrAndKey(name);
    }

    function _payment(
        Person memory payer,
        Person memory payee,
        uint16 payeeBank,
        uint256 amount,
        uint256 nonce
    ) internal view returns (Payment memory) {
        return
            Payment({
                payer: payer.addr,
                payee: payee.addr,
                payeeBank: payeeBank,
                currency: CNY,
                amount: amount,
                qrHash: keccak256(abi.encodePacked("qr:", payee.addr, amount)),
                nonce: nonce,
                deadline: block.timestamp + 1 hours
            });
    }

    /// @dev Signs with the payer's key in EIP-2098 compact form, the batch's native form.
    function _signed(Payment memory p, uint256 key) internal view returns (SignedPayment memory) {
        (bytes32 r, bytes32 vs) = vm.signCompact(key, ledger.hashPayment(p));
        return SignedPayment({payment: p, kind: 0, signature: abi.encodePacked(r, vs)});
    }

    function _one(SignedPayment memory s) internal pure returns (SignedPayment[] memory batch) {
        batch = new SignedPayment[](1);
        batch[0] = s;
    }

    function _settle(
        address relayer,
        SignedPayment[] memory batch
    ) internal returns (uint256 settled, bytes32 root) {
        (bytes memory payees, bytes memory items) = BatchEncoder.encode(batch);
        vm.prank(relayer);
        return ledger.settlePayments(batch[0].payment.currency, payees, items);
    }

    /// @dev Settles one payment by `payer` and returns the batch root.
    function _pay(
        Person memory payer,
        Person memory payee,
        uint16 payeeBank,
        uint256 amount,
        uint256 nonce
    ) internal returns (Payment memory p, bytes32 root) {
        p = _payment(payer, payee, payeeBank, amount, nonce);
        address relayer = relayerOf(ledger.getAccount(payer.addr, CNY).bankId);
        uint256 settled;
        (settled, root) = _settle(relayer, _one(_signed(p, payer.key)));
        assertEq(settled, 1, "payment should settle");
    }

    function relayerOf(uint16 bankId) internal view returns (address) {
        if (bankId == bankA) return relayerA;
        if (bankId == bankB) return relayerB;
        return relayerC;
    }

    function _refundRequest(
        Payment memory p,
        bytes32 root,
        bytes32[] memory proof,
        uint256 amount,
        uint256 nonce,
        uint256 key
    ) internal view returns (RefundRequest memory request) {
        bytes32 paymentId = ledger.hashPayment(p);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            key,
            ledger.hashRefund(Refund(paymentId, amount, nonce, deadline))
        );
        request = RefundRequest({
            payment: p,
            batchRoot: root,
            proof: proof,
            amount: amount,
            nonce: nonce,
            deadline: deadline,
            signature: abi.encodePacked(r, s, v)
        });
    }

    function _oneRefund(RefundRequest memory r) internal pure returns (RefundRequest[] memory batch) {
        batch = new RefundRequest[](1);
        batch[0] = r;
    }

    /// @dev `PaymentSettled.terms` as the event documents it: amount ‖ payer bank ‖ payee bank ‖ currency.
    function _terms(
        uint256 amount,
        uint16 payerBank,
        uint16 payeeBank,
        uint16 currency
    ) internal pure returns (uint256) {
        return amount | (uint256(payerBank) << 96) | (uint256(payeeBank) << 112) | (uint256(currency) << 128);
    }

    function _balance(Person memory p) internal view returns (uint256) {
        return ledger.balanceOf(p.addr, CNY);
    }

    function _reserves(uint16 bankId) internal view returns (int256 reserves) {
        (reserves, ) = ledger.getPosition(bankId, CNY);
    }

    function _deposits(uint16 bankId) internal view returns (uint256 deposits) {
        (, deposits) = ledger.getPosition(bankId, CNY);
    }

    /// @dev Expects exactly one PaymentRejected for `p` with `reason` in the next call.
    function _expectRejected(Payment memory p, RejectReason reason) internal {
        vm.expectEmit(address(ledger));
        emit ISettlementLedger.PaymentRejected(ledger.hashPayment(p), p.payer, reason);
    }
}
