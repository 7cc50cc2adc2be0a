// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Payment, Refund} from "../interfaces/ISettlementLedger.sol";

/// @notice EIP-712 struct hashes of the messages customers sign. The type strings here are the single on-chain
/// definition; `src/protocol/eip712.ts` publishes the same types to wallets and a test keeps them equal.
library PaymentHashLib {
    bytes32 internal constant PAYMENT_TYPEHASH = keccak256(
        "Payment(address payer,address payee,uint16 payeeBank,uint16 currency,uint256 amount,bytes32 qrHash,uint256 nonce,uint256 deadline)"
    );

    bytes32 internal constant REFUND_TYPEHASH = keccak256(
        "Refund(bytes32 paymentId,uint256 amount,uint256 nonce,uint256 deadline)"
    );

    /// @notice Struct hash of a payment given field by field (the batch decoder's form).
    /// @dev Hashes in scratch memory above the free memory pointer without allocating, so a batch loop
    /// does not grow memory per item. Narrow values are masked here: Solidity may hand inline assembly a
    /// value whose unused high bits are not yet cleaned (e.g. `address(uint160(word))`).
    function hash(
        address payer,
        address payee,
        uint16 payeeBank,
        uint16 currency,
        uint256 amount,
        bytes32 qrHash,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32 result) {
        bytes32 typehash = PAYMENT_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), shr(96, shl(96, payer)))
            mstore(add(m, 0x40), shr(96, shl(96, payee)))
            mstore(add(m, 0x60), and(payeeBank, 0xffff))
            mstore(add(m, 0x80), and(currency, 0xffff))
            mstore(add(m, 0xa0), amount)
            mstore(add(m, 0xc0), qrHash)
            mstore(add(m, 0xe0), nonce)
            mstore(add(m, 0x100), deadline)
            result := keccak256(m, 0x120)
        }
    }

    /// @notice Struct hash of a payment.
    function hash(Payment calldata p) internal pure returns (bytes32) {
        return hash(p.payer, p.payee, p.payeeBank, p.currency, p.amount, p.qrHash, p.nonce, p.deadline);
    }

    /// @notice Struct hash of a refund.
    function hash(Refund memory r) internal pure returns (bytes32) {
        return keccak256(abi.encode(REFUND_TYPEHASH, r.paymentId, r.amount, r.nonce, r.deadline));
    }
}
