import { z } from "zod";

import { getCurrency } from "../../protocol/currencies.ts";

const currencyCode = (description: string) =>
  z
    .string()
    .refine((code) => getCurrency(code) !== undefined, { error: "must be an ISO 4217 code, e.g. CNY or 156" })
    .transform((code) => (getCurrency(code) as { numeric: number }).numeric)
    .meta({ description });

/** The query of both quote routes: a pair and the amount the merchant is to receive. */
export const quoteQuerySchema = z.strictObject({
  from: currencyCode("Currency the payer pays in: alphabetic (`CNY`) or numeric (`156`) ISO 4217 code."),
  to: currencyCode("Currency the merchant is paid in, e.g. `HKD` or `344`."),
  amount: z
    .string()
    .regex(/^[1-9][0-9]{0,28}$/, { error: "must be a positive decimal integer (minor units of `to`)" })
    .transform((value) => BigInt(value))
    .meta({
      description: "What the merchant receives, in minor units of `to`, e.g. `10850` for HKD 108.50.",
    }),
});
