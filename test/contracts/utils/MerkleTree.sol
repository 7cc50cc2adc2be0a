// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @notice Test-side Merkle tree over a batch's settled payment ids, built the way `SettlementLedger` builds
/// its batch roots: commutative keccak256 pairs, an odd node moving up a level unchanged.
library MerkleTree {
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory level = _copy(leaves);
        uint256 count = level.length;
        while (count > 1) {
            count = _up(level, count);
        }
        return level[0];
    }

    /// @notice Siblings of `leaves[index]` from the bottom up; a level where the node is promoted adds none.
    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory siblings) {
        bytes32[] memory level = _copy(leaves);
        siblings = new bytes32[](256);
        uint256 depth;
        uint256 count = level.length;
        while (count > 1) {
            bool promoted = count % 2 == 1 && index == count - 1;
            if (!promoted) {
                siblings[depth] = level[index ^ 1];
                ++depth;
            }
            count = _up(level, count);
            index /= 2;
        }
        assembly ("memory-safe") {
            mstore(siblings, depth)
        }
    }

    function _up(bytes32[] memory level, uint256 count) private pure returns (uint256) {
        uint256 half = count / 2;
        for (uint256 i; i < half; ++i) {
            level[i] = Hashes.commutativeKeccak256(level[2 * i], level[2 * i + 1]);
        }
        if (count % 2 == 0) return half;
        level[half] = level[count - 1];
        return half + 1;
    }

    function _copy(bytes32[] memory leaves) private pure returns (bytes32[] memory out) {
        out = new bytes32[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) out[i] = leaves[i];
    }
}
