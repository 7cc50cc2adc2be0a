// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Signature checks for customer messages: ECDSA in 65-byte or EIP-2098 64-byte form, and ERC-1271
/// for smart accounts. Malleable ECDSA signatures (high s) are rejected.
library SignatureLib {
    /// @notice Gas given to an ERC-1271 wallet's `isValidSignature`, so a wallet cannot starve a batch.
    uint256 internal constant ERC1271_GAS = 200_000;

    /// @dev secp256k1n / 2: the largest `s` a non-malleable signature may carry.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice Signer of an EIP-2098 compact signature, or zero if the signature is malleable or invalid.
    function recoverCompact(bytes32 digest, bytes32 r, bytes32 vs) internal pure returns (address) {
        uint256 s = uint256(vs) & ((1 << 255) - 1);
        if (s > HALF_ORDER) return address(0);
        // The top bit of vs is the parity (EIP-2098), so v is 27 or 28.
        uint8 v = uint8(uint256(vs) >> 255) + 27;
        return ecrecover(digest, v, r, bytes32(s));
    }

    /// @notice Signer of a 65-byte or EIP-2098 64-byte ECDSA signature, or zero if it is malformed, malleable or
    /// invalid.
    function recoverCalldata(bytes32 digest, bytes calldata signature) internal pure returns (address) {
        if (signature.length != 64 && signature.length != 65) return address(0);
        (uint8 v, bytes32 r, bytes32 s) = ECDSA.parseCalldata(signature);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, v, r, s);
        return err == ECDSA.RecoverError.NoError ? recovered : address(0);
    }

    /// @notice Whether `account` signed `digest`: ECDSA (65 or 64 bytes) for keys, else ERC-1271 if it has code.
    function isValidCalldata(
        address account,
        bytes32 digest,
        bytes calldata signature
    ) internal view returns (bool) {
        if (account == address(0)) return false;
        if (recoverCalldata(digest, signature) == account) return true;
        return account.code.length != 0 && isValidERC1271Calldata(account, digest, signature);
    }

    /// @notice Whether the smart account `account` accepts `signature` for `digest` (ERC-1271), within
    /// `ERC1271_GAS`. A revert, a short answer or any other answer than the magic value means no.
    function isValidERC1271Calldata(
        address account,
        bytes32 digest,
        bytes calldata signature
    ) internal view returns (bool valid) {
        bytes memory data = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bytes4 magic = IERC1271.isValidSignature.selector;
        assembly ("memory-safe") {
            // Only the first word of the answer is copied, so a huge return cannot cost us memory.
            let ok := staticcall(ERC1271_GAS, account, add(data, 0x20), mload(data), 0x00, 0x20)
            valid := and(and(ok, gt(returndatasize(), 0x1f)), eq(mload(0x00), magic))
        }
    }
}
