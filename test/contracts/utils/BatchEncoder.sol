// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Payment} from "../../../contracts/interfaces/ISettlementLedger.sol";

/// @notice A payment with its signature as a batch carries it: kind 0 is an EIP-2098 compact ECDSA signature
/// (64 bytes), kind 1 an ERC-1271 signature of any length.
struct SignedPayment {
    Payment payment;
    uint8 kind;
    bytes signature;
}

/// @notice Test-side encoder of `settlePayments` batches; `src/protocol/batch.ts` is the production one and
/// both are checked against the same contract.
library BatchEncoder {
    function encode(
        SignedPayment[] memory batch
    ) internal pure returns (bytes memory payees, bytes memory items) {
        address[] memory seen = new address[](batch.length);
        uint16[] memory seenBanks = new uint16[](batch.length);
        uint256 count;
        for (uint256 i; i < batch.length; ++i) {
            Payment memory p = batch[i].payment;
            uint256 index;
            while (index < count && (seen[index] != p.payee || seenBanks[index] != p.payeeBank)) ++index;
            if (index == count) {
                seen[count] = p.payee;
                seenBanks[count] = p.payeeBank;
                ++count;
                payees = abi.encodePacked(payees, p.payee, p.payeeBank);
            }
            items = abi.encodePacked(items, encodeItem(batch[i], uint16(index)));
        }
    }

    function encodeItem(SignedPayment memory s, uint16 payeeIndex) internal pure returns (bytes memory) {
        Payment memory p = s.payment;
        bytes memory head = abi.encodePacked(
            p.payer,
            payeeIndex,
            uint96(p.amount),
            uint48(p.nonce),
            uint40(p.deadline),
            p.qrHash,
            s.kind
        );
        if (s.kind == 0) return abi.encodePacked(head, s.signature);
        return abi.encodePacked(head, uint16(s.signature.length), s.signature);
    }
}
