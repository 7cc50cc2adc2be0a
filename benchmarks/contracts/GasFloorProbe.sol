// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ISettlementLedger} from "../../contracts/interfaces/ISettlementLedger.sol";
import {PaymentHashLib} from "../../contracts/libraries/PaymentHashLib.sol";

/// @title Gas floor probe: UNSAFE, NEVER DEPLOY
/// @notice Exists only to measure, in the same `bench:gas` run as the ledger, the least gas a settled payment
/// can cost under the issue's own requirements. Per payment it does only the work those requirements force:
///
/// - the EIP-712 digest of the ledger's `Payment` (same typehash, same domain shape: name "QRSettle",
///   version "1", chain id, this contract) and the payer's ECDSA signature over it, through the `ecrecover`
///   precompile;
/// - one read and one write of the payer's single storage word (`_balances[currency][payer]`, the ledger's
///   slot derivation), minus the amount;
/// - the payee's credit, summed in memory and written once per distinct payee at the end of the batch;
/// - `PaymentSettled`, the ledger's event: payer and payee as topics, payment id, QR hash and the packed terms
///   word as data (or, per `EventShape`, a data-less LOG3 or no event, to price the event's parts).
///
/// Everything else the ledger does is deliberately absent: no nonce or replay check, no deadline, no bank,
/// account, balance (a debit below zero wraps), limit, pause or reserve check, no payee index bound, no
/// Merkle root; anyone may fund any account.
///
/// `settle()` calldata: its selector, then the batch packed for size (not ABI-encoded), offsets from the batch:
///
///   bytes 0–1  currency (uint16)      byte  4     payee count n (uint8)
///   bytes 2–3  payer bank (uint16)    then n × 22 bytes of payee table: payee (20) ‖ payee bank (uint16)
///
/// then items of 137 bytes each:
///
///   bytes  0–19  payer               bytes 37–40   deadline (uint32)
///   byte   20    payee index         bytes 41–72   qrHash
///   bytes 21–32  amount (uint96)     bytes 73–136  EIP-2098 compact signature: r ‖ vs
///   bytes 33–36  nonce (uint32)
///
/// The ledger's item is 142 bytes: its nonce and deadline are wider, its payee index is two bytes and it
/// carries a signature-kind byte for ERC-1271 wallets.
contract GasFloorProbe {
    /// @notice What the probe logs per payment: the ledger's `PaymentSettled`, a LOG3 with the same topics and
    /// no data, or nothing. Branching on it costs every variant about 40 gas per payment.
    enum EventShape {
        Full,
        Bare,
        None
    }

    /// @dev Calldata offsets: the batch follows the selector, its payee table follows its 5-byte header.
    uint256 private constant BATCH = 4;
    uint256 private constant PAYEE_TABLE = 9;
    uint256 private constant PAYEE_ENTRY_SIZE = 22;
    uint256 private constant ITEM_SIZE = 137;

    EventShape public immutable eventShape;
    bytes32 public immutable domainSeparator;

    mapping(uint16 currency => mapping(address account => uint256 balance)) private _balances;

    constructor(EventShape shape) {
        eventShape = shape;
        domainSeparator = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("QRSettle"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    /// @notice Adds `amount` to each account, e.g. so payers are returning (their word nonzero) when measured.
    function fund(uint16 currency, address[] calldata accounts, uint256 amount) external {
        for (uint256 i; i < accounts.length; ++i) _balances[currency][accounts[i]] += amount;
    }

    function balanceOf(uint16 currency, address account) external view returns (uint256) {
        return _balances[currency][account];
    }

    /// @notice Settles the batch that follows the selector (format above); reverts the whole batch if any
    /// signature is not the payer's.
    function settle() external {
        bytes32 typehash = PaymentHashLib.PAYMENT_TYPEHASH;
        bytes32 separator = domainSeparator;
        bytes32 topic = ISettlementLedger.PaymentSettled.selector;
        uint256 shape = uint256(eventShape);
        mapping(uint16 => mapping(address => uint256)) storage balances = _balances;
        // Memory is laid out at fixed addresses (nothing here allocates), written as literals because legacy
        // code generation does not fold `add(base, offset)` of constants:
        //   0x80–0x19f   the Payment struct: typehash, payer, payee, payeeBank, currency, amount, qrHash,
        //                nonce, deadline; after hashing, 0x120–0x17f is reused as PaymentSettled's data:
        //                payment id (over amount), qrHash, terms (over nonce)
        //   0x1a0–0x1e1  "\x19\x01" ‖ domain separator ‖ struct hash
        //   0x200–0x27f  ecrecover's input: digest, v, r, s; the recovered address is written over the digest
        //   0x280–       the credit of each payee table entry
        assembly {
            let currency := shr(240, calldataload(BATCH))
            let payeeCount := byte(4, calldataload(BATCH))
            // The terms word's per-batch parts: payer bank (bits 96–111) and currency (128–143).
            let batchTerms := or(shl(96, shr(240, calldataload(add(BATCH, 2)))), shl(128, currency))
            // _balances[currency], kept at 0x20 so each account's slot is one keccak over 0x00–0x3f.
            mstore(0x00, currency)
            mstore(0x20, balances.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x80, typehash)
            mstore(0x100, currency)
            mstore(0x1a0, shl(240, 0x1901))
            mstore(0x1a2, separator)

            for {
                let p := add(PAYEE_TABLE, mul(payeeCount, PAYEE_ENTRY_SIZE))
            } lt(p, calldatasize()) {
                p := add(p, ITEM_SIZE)
            } {
                let head := calldataload(p)
                let payer := shr(96, head)
                let index := byte(20, head)
                let fields := calldataload(add(p, 9)) // bytes 9–40, ending amount ‖ nonce ‖ deadline
                let amount := and(shr(64, fields), 0xffffffffffffffffffffffff)
                let entry := calldataload(add(PAYEE_TABLE, mul(index, PAYEE_ENTRY_SIZE)))
                let payee := shr(96, entry)
                let payeeBank := and(shr(80, entry), 0xffff)

                mstore(0xa0, payer)
                mstore(0xc0, payee)
                mstore(0xe0, payeeBank)
                mstore(0x120, amount)
                mstore(0x140, calldataload(add(p, 41))) // qrHash
                mstore(0x160, and(shr(32, fields), 0xffffffff)) // nonce
                mstore(0x180, and(fields, 0xffffffff)) // deadline
                mstore(0x1c2, keccak256(0x80, 0x120))
                let digest := keccak256(0x1a0, 0x42)

                let vs := calldataload(add(p, 105))
                mstore(0x200, digest)
                mstore(0x220, add(27, shr(255, vs)))
                mstore(0x240, calldataload(add(p, 73)))
                mstore(0x260, shr(1, shl(1, vs)))
                // An invalid signature returns nothing and leaves the digest in place, which no address equals.
                pop(staticcall(gas(), 0x01, 0x200, 0x80, 0x200, 0x20))
                if iszero(eq(mload(0x200), payer)) {
                    revert(0, 0)
                }

                mstore(0x00, payer)
                let slot := keccak256(0x00, 0x40)
                sstore(slot, sub(sload(slot), amount))
                let credit := add(0x280, shl(5, index))
                mstore(credit, add(mload(credit), amount))

                switch shape
                case 0 {
                    mstore(0x120, digest)
                    mstore(0x160, or(or(amount, batchTerms), shl(112, payeeBank)))
                    log3(0x120, 0x60, topic, payer, payee)
                }
                case 1 {
                    log3(0, 0, topic, payer, payee)
                }
            }

            for {
                let i := 0
            } lt(i, payeeCount) {
                i := add(i, 1)
            } {
                let credit := mload(add(0x280, shl(5, i)))
                if credit {
                    mstore(0x00, shr(96, calldataload(add(PAYEE_TABLE, mul(i, PAYEE_ENTRY_SIZE)))))
                    let slot := keccak256(0x00, 0x40)
                    sstore(slot, add(sload(slot), credit))
                }
            }
            stop()
        }
    }
}
