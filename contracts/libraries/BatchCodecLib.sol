// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RejectReason} from "../interfaces/ISettlementLedger.sol";
import {PaymentHashLib} from "./PaymentHashLib.sol";

/// @notice One decoded `settlePayments` item, in memory; the batch loop reuses one instance for every item.
/// @param entry The item's payee table entry, packed (see `BatchCodecLib.packEntry`).
struct BatchItem {
    address payer;
    uint256 entry;
    uint256 entryIndex;
    uint256 amount;
    uint256 nonce;
    uint256 deadline;
    bytes32 qrHash;
    bytes32 paymentId;
}

/// @notice Decoding of `settlePayments` calldata, read straight from calldata without copies.
///
/// Payee table: 22-byte entries, payee address (20) ‖ payee bank (uint16).
///
/// Item: a 78-byte head, then the signature.
///
///   bytes  0–19  payer            bytes 34–39  nonce (uint48)
///   bytes 20–21  payee index      bytes 40–44  deadline (uint40)
///   bytes 22–33  amount (uint96)  bytes 45–76  qrHash
///                                 byte  77     signature kind
///
/// Kind 0: an EIP-2098 compact signature, r (32) ‖ vs (32). Kind 1: length (uint16) ‖ ERC-1271 signature.
library BatchCodecLib {
    uint256 internal constant PAYEE_ENTRY_SIZE = 22;
    uint256 internal constant MAX_PAYEES = 1 << 16;
    uint256 internal constant ITEM_HEAD_SIZE = 78;
    uint256 internal constant COMPACT_SIGNATURE_SIZE = 64;
    uint256 internal constant SIG_KIND_COMPACT = 0;
    uint256 internal constant SIG_KIND_ERC1271 = 1;
    /// @notice What `readItemHead` returns for an item that cannot be decoded.
    uint256 internal constant MALFORMED = type(uint256).max;

    /// @notice Entry `i` of the payee table; callers check the table's length.
    function readPayee(bytes calldata payees, uint256 i) internal pure returns (address payee, uint16 bank) {
        uint256 word;
        assembly ("memory-safe") {
            word := calldataload(add(payees.offset, mul(i, PAYEE_ENTRY_SIZE)))
        }
        payee = address(uint160(word >> 96));
        bank = uint16(word >> 80);
    }

    /// @notice A payee table entry in one word: payee ‖ bank ‖ index of the bank among the batch's distinct
    /// payee banks ‖ the reason items paying it are skipped (None if it can be paid).
    function packEntry(
        address payee,
        uint16 bank,
        uint256 bankIndex,
        RejectReason reason
    ) internal pure returns (uint256) {
        return
            uint256(uint160(payee)) |
            (uint256(bank) << 160) |
            ((bankIndex & 0xff) << 176) |
            (uint256(uint8(reason)) << 184);
    }

    function unpackEntry(
        uint256 entry
    ) internal pure returns (address payee, uint16 bank, uint256 bankIndex, RejectReason reason) {
        payee = address(uint160(entry));
        bank = uint16(entry >> 160);
        bankIndex = uint8(entry >> 176);
        reason = RejectReason(uint8(entry >> 184));
    }

    /// @notice Decodes the head of the item at `offset` into `item`.
    /// @return kind The signature kind, or `MALFORMED` if the head is cut short, names a payee outside the
    /// table or has an unknown signature kind.
    function readItemHead(
        bytes calldata items,
        uint256 offset,
        uint256[] memory entries,
        BatchItem memory item
    ) internal pure returns (uint256 kind) {
        if (items.length - offset < ITEM_HEAD_SIZE) return MALFORMED;
        uint256 head;
        uint256 terms;
        bytes32 qrHash;
        assembly ("memory-safe") {
            let p := add(items.offset, offset)
            head := calldataload(p)
            terms := calldataload(add(p, 22))
            qrHash := calldataload(add(p, 45))
            kind := byte(0, calldataload(add(p, 77)))
        }
        uint256 index = (head >> 80) & 0xffff;
        if (index >= entries.length || kind > SIG_KIND_ERC1271) return MALFORMED;
        item.payer = address(uint160(head >> 96));
        item.entry = entries[index];
        item.entryIndex = index;
        item.amount = terms >> 160;
        item.nonce = (terms >> 112) & 0xffffffffffff;
        item.deadline = (terms >> 72) & 0xffffffffff;
        item.qrHash = qrHash;
    }

    /// @notice The item's payment id: the EIP-712 digest of the `Payment` it encodes.
    function paymentId(
        bytes32 domainSeparator,
        uint16 currency,
        BatchItem memory item
    ) internal pure returns (bytes32 digest) {
        uint256 entry = item.entry;
        bytes32 structHash = PaymentHashLib.hash(
            item.payer,
            address(uint160(entry)),
            uint16(entry >> 160),
            currency,
            item.amount,
            item.qrHash,
            item.nonce,
            item.deadline
        );
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domainSeparator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @notice Two consecutive calldata words, e.g. a compact signature's r and vs; callers check bounds.
    function readWords(bytes calldata data, uint256 offset) internal pure returns (bytes32 a, bytes32 b) {
        assembly ("memory-safe") {
            let p := add(data.offset, offset)
            a := calldataload(p)
            b := calldataload(add(p, 32))
        }
    }
}
