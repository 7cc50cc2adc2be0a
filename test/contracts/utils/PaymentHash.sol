// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Payment} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {PaymentHashLib} from "../../../contracts/libraries/PaymentHashLib.sol";

/// @notice EIP-712 struct hash of a payment held in memory, with the ledger's own hashing code. (The library
/// takes calldata structs, as the ledger's batches arrive; a `memory` overload beside it would be ambiguous.)
function paymentStructHash(Payment memory p) pure returns (bytes32) {
    return
        PaymentHashLib.hash(
            p.payer,
            p.payee,
            p.payeeBank,
            p.currency,
            p.amount,
            p.qrHash,
            p.nonce,
            p.deadline
        );
}
