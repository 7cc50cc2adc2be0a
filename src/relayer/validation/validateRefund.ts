import type { Address, Hex, PublicClient } from "viem";

import type { Payment, Refund } from "../../protocol/types.ts";
import { toWirePayment, toWireRefund } from "../../protocol/wire.ts";
import { ApiError } from "../errors.ts";
import type { NewRequest } from "../store/types.ts";
import { findSettlement } from "./findSettlement.ts";
import { balanceOf, checkAmount, checkDeadline, checkNonce, checkSigner } from "./ledgerRules.ts";
import { confirmedFresh, type Validated, type ValidationContext } from "./validatePayment.ts";
import { verifySignature } from "./verifySignature.ts";

/** What refund validation needs beyond a payment's: the chain, to find where the payment settled. */
export interface RefundValidationContext extends ValidationContext {
  client: PublicClient;
  ledgerAddress: Address;
  logLookbackBlocks: number;
}

/**
 * Everything a refund must pass before it is stored: it names the payment sent with it, the payment's payee is
 * a customer of this bank (refunds are relayed by the payee's bank) and signed it, the deadline is ahead, the
 * payee's nonce is unused, and the payment settled (its batch root and proof are found on chain); then the
 * payee's balance and what remains refundable, for `store.admit` to check against what is queued.
 *
 * @throws {ApiError} with the code of the first check that fails.
 * @example
 * const validated = await validateRefund(context, { refund, payment, signature }, "merchant-app");
 */
export async function validateRefund(
  context: RefundValidationContext,
  signed: { refund: Refund; payment: Payment; signature: Hex },
  client?: string,
): Promise<Validated> {
  const { refund, payment, signature } = signed;
  const { ledger } = context;
  const now = context.now();
  const paymentId = context.hasher.payment(payment).id;
  if (refund.paymentId.toLowerCase() !== paymentId) {
    throw new ApiError(
      "REFUND_MISMATCH",
      `The refund names ${refund.paymentId}, but the payment's id is ${paymentId}.`,
    );
  }
  if (payment.payeeBank !== context.bankId) {
    throw new ApiError(
      "NOT_PAYEE_BANK",
      `The payee banks with ${payment.payeeBank}; this relayer serves ${context.bankId}.`,
    );
  }
  if (!(await ledger.currencyEnabled(payment.currency))) {
    throw new ApiError(
      "CURRENCY_NOT_SUPPORTED",
      `Currency ${payment.currency} is not enabled on the ledger.`,
    );
  }
  const { digest, id } = context.hasher.refund(refund);
  await verifySignature(context.recovery, ledger, payment.payee, digest, id, signature);
  const existing = await context.store.getRequest(id);
  if (existing !== undefined) return { existing };

  checkDeadline(refund.deadline, now, context.minDeadlineSeconds);
  checkAmount(refund.amount, 0n);
  const payee = await confirmedFresh(async (fresh) => {
    const account = await ledger.account(payment.payee, payment.currency, fresh);
    checkSigner(account, context.bankId);
    checkNonce(account, refund.nonce);
    return account;
  });
  const settlement = await findSettlement(
    context.client,
    context.ledgerAddress,
    payment.payer,
    payment.payee,
    paymentId,
    context.logLookbackBlocks,
  );
  if (settlement === undefined) {
    throw new ApiError(
      "PAYMENT_NOT_SETTLED",
      `No PaymentSettled event for ${paymentId} in the searched blocks.`,
    );
  }
  const refundable = async (fresh: boolean) => {
    const refunded = await ledger.refundedAmount(paymentId, fresh);
    return { value: payment.amount - refunded.value, block: refunded.block };
  };
  const request: NewRequest = {
    id,
    kind: "refund",
    signer: payment.payee.toLowerCase() as NewRequest["signer"],
    currency: payment.currency,
    nonce: refund.nonce,
    amount: refund.amount,
    deadline: refund.deadline,
    paymentId,
    body: JSON.stringify({
      refund: toWireRefund({ ...refund, paymentId }),
      payment: toWirePayment(payment),
      signature,
      batchRoot: settlement.batchRoot,
      proof: settlement.proof,
    }),
    acceptedAt: now,
  };
  if (client !== undefined) request.client = client;
  return {
    request,
    limits: { balance: balanceOf(payee), refundable: await refundable(false) },
    freshLimits: async () => {
      const account = await ledger.account(payment.payee, payment.currency, true);
      return { balance: balanceOf(account), refundable: await refundable(true) };
    },
  };
}
