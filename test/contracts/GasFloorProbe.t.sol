// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Vm} from "forge-std/Vm.sol";

import {GasFloorProbe} from "../../benchmarks/contracts/GasFloorProbe.sol";
import {ISettlementLedger, Payment} from "../../contracts/interfaces/ISettlementLedger.sol";
import {LedgerTest} from "./utils/LedgerTest.sol";
import {eip712DomainSeparator, paymentStructHash} from "./utils/PaymentHash.sol";

/// @notice The gas floor probe that `bench:gas` measures does the work it is measured for: it checks each
/// payer's signature over the ledger's EIP-712 `Payment`, debits payers, credits payees and logs, so its gas
/// is a floor for real work and not the cost of a contract that does nothing.
contract GasFloorProbeTest is LedgerTest {
    uint256 private constant ITEM_SIZE = 137;
    uint256 private constant FUNDING = 1_000_00;

    GasFloorProbe private probe;

    function setUp() public override {
        super.setUp();
        probe = _deployFunded(GasFloorProbe.EventShape.Full);
    }

    function testDomainIsTheLedgersAtTheProbesAddress() public view {
        (, string memory name, string memory version, uint256 chainId, , , ) = ledger.eip712Domain();
        assertEq(probe.domainSeparator(), eip712DomainSeparator(name, version, chainId, address(probe)));
    }

    function testSettleDebitsPayersCreditsPayeesAndLogsPaymentSettled() public {
        Payment[] memory batch = new Payment[](3);
        batch[0] = _payment(alice, max, bankB, 10_00, 0);
        batch[1] = _payment(bob, max, bankB, 20_00, 0);
        batch[2] = _payment(alice, noor, bankC, 5_00, 1);

        for (uint256 i; i < batch.length; ++i) {
            Payment memory p = batch[i];
            vm.expectEmit(address(probe));
            emit ISettlementLedger.PaymentSettled(
                p.payer,
                p.payee,
                _paymentId(probe, p),
                p.qrHash,
                _terms(p.amount, bankA, p.payeeBank, CNY)
            );
        }
        assertTrue(_call(probe, _encode(probe, batch)));

        assertEq(probe.balanceOf(CNY, alice.addr), FUNDING - 15_00);
        assertEq(probe.balanceOf(CNY, bob.addr), FUNDING - 20_00);
        assertEq(probe.balanceOf(CNY, max.addr), 30_00);
        assertEq(probe.balanceOf(CNY, noor.addr), 5_00);
    }

    function testSettleRevertsOnAnotherKeysSignature() public {
        Payment[] memory batch = _single(_payment(alice, max, bankB, 10_00, 0));
        bytes memory data = _encode(probe, batch);
        _replaceLastSignature(data, probe, batch[0], bob.key);

        assertFalse(_call(probe, data));
        assertEq(probe.balanceOf(CNY, alice.addr), FUNDING);
    }

    function testSettleRevertsOnUnrecoverableSignatureAfterAValidOne() public {
        Payment[] memory batch = new Payment[](2);
        batch[0] = _payment(alice, max, bankB, 10_00, 0);
        batch[1] = _payment(alice, max, bankB, 10_00, 1);
        bytes memory data = _encode(probe, batch);
        // r = 0: ecrecover returns nothing, so the previous item's recovered payer must not be reused.
        uint256 r = _itemAt(batch.length, data.length, 1) + 73;
        for (uint256 i; i < 32; ++i) data[r + i] = 0;

        assertFalse(_call(probe, data));
    }

    /// @dev Every bit of an item is either signed or part of the signature, so flipping any one of them fails.
    function testFuzzSettleRevertsOnAnyFlippedItemBit(uint256 bit) public {
        bit = bound(bit, 0, ITEM_SIZE * 8 - 1);
        Payment[] memory batch = new Payment[](2);
        batch[0] = _payment(alice, max, bankB, 10_00, 0);
        batch[1] = _payment(bob, noor, bankC, 20_00, 0);
        bytes memory data = _encode(probe, batch);
        uint256 at = _itemAt(2, data.length, 1) + bit / 8;
        data[at] = data[at] ^ bytes1(uint8(0x80 >> (bit % 8)));

        assertFalse(_call(probe, data));
    }

    function testBareEventVariantVerifiesAndMovesBalancesAndLogsTopicsOnly() public {
        GasFloorProbe bare = _deployFunded(GasFloorProbe.EventShape.Bare);
        Payment[] memory batch = _single(_payment(alice, max, bankB, 10_00, 0));
        bytes memory data = _encode(bare, batch);
        _replaceLastSignature(data, bare, batch[0], bob.key);
        assertFalse(_call(bare, data));

        vm.recordLogs();
        assertTrue(_call(bare, _encode(bare, batch)));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics.length, 3);
        assertEq(logs[0].topics[0], ISettlementLedger.PaymentSettled.selector);
        assertEq(logs[0].topics[1], bytes32(uint256(uint160(alice.addr))));
        assertEq(logs[0].topics[2], bytes32(uint256(uint160(max.addr))));
        assertEq(logs[0].data.length, 0);
        assertEq(bare.balanceOf(CNY, alice.addr), FUNDING - 10_00);
        assertEq(bare.balanceOf(CNY, max.addr), 10_00);
    }

    function testNoEventVariantVerifiesAndMovesBalancesSilently() public {
        GasFloorProbe silent = _deployFunded(GasFloorProbe.EventShape.None);
        Payment[] memory batch = _single(_payment(alice, max, bankB, 10_00, 0));
        bytes memory data = _encode(silent, batch);
        _replaceLastSignature(data, silent, batch[0], bob.key);
        assertFalse(_call(silent, data));

        vm.recordLogs();
        assertTrue(_call(silent, _encode(silent, batch)));
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(silent.balanceOf(CNY, alice.addr), FUNDING - 10_00);
        assertEq(silent.balanceOf(CNY, max.addr), 10_00);
    }

    // ───────────────────────────────────────── Helpers ──────────────────────────────────────────

    function _deployFunded(GasFloorProbe.EventShape shape) private returns (GasFloorProbe deployed) {
        deployed = new GasFloorProbe(shape);
        address[] memory payers = new address[](2);
        payers[0] = alice.addr;
        payers[1] = bob.addr;
        deployed.fund(CNY, payers, FUNDING);
    }

    function _paymentId(GasFloorProbe target, Payment memory p) private view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(target.domainSeparator(), paymentStructHash(p));
    }

    /// @dev `settle()` calldata in the probe's batch format, paid by bank A, each payer signing its own item.
    function _encode(GasFloorProbe target, Payment[] memory batch) private view returns (bytes memory data) {
        address[] memory payees = new address[](batch.length);
        bytes memory table;
        bytes memory items;
        uint256 count;
        for (uint256 i; i < batch.length; ++i) {
            Payment memory p = batch[i];
            uint256 index;
            while (index < count && payees[index] != p.payee) ++index;
            if (index == count) {
                payees[count++] = p.payee;
                table = abi.encodePacked(table, p.payee, p.payeeBank);
            }
            (bytes32 r, bytes32 vs) = vm.signCompact(_keyOf(p.payer), _paymentId(target, p));
            items = abi.encodePacked(
                items,
                abi.encodePacked(
                    p.payer,
                    uint8(index),
                    uint96(p.amount),
                    uint32(p.nonce),
                    uint32(p.deadline)
                ),
                abi.encodePacked(p.qrHash, r, vs)
            );
        }
        data = abi.encodePacked(GasFloorProbe.settle.selector, CNY, bankA, uint8(count), table, items);
    }

    /// @dev Overwrites the last item's signature (the batch's last 64 bytes) with `key`'s signature of `p`.
    function _replaceLastSignature(
        bytes memory data,
        GasFloorProbe target,
        Payment memory p,
        uint256 key
    ) private view {
        (bytes32 r, bytes32 vs) = vm.signCompact(key, _paymentId(target, p));
        bytes memory signature = abi.encodePacked(r, vs);
        for (uint256 i; i < 64; ++i) data[data.length - 64 + i] = signature[i];
    }

    /// @dev Offset of item `item` in a batch of `count` items and `size` bytes (the items end the batch).
    function _itemAt(uint256 count, uint256 size, uint256 item) private pure returns (uint256) {
        return size - (count - item) * ITEM_SIZE;
    }

    function _keyOf(address payer) private view returns (uint256) {
        if (payer == alice.addr) return alice.key;
        assertEq(payer, bob.addr, "the tests' payers are Alice and Bob");
        return bob.key;
    }

    function _single(Payment memory p) private pure returns (Payment[] memory batch) {
        batch = new Payment[](1);
        batch[0] = p;
    }

    function _call(GasFloorProbe target, bytes memory data) private returns (bool ok) {
        (ok, ) = address(target).call(data);
    }
}
