import { z } from "zod";

import { defineRoute } from "./route.ts";

const field = z.object({ name: z.string(), type: z.string() });

/** `GET /v1/eip712`: what an independent wallet needs to sign payments and refunds without our SDK. */
export const getEip712 = defineRoute({
  method: "GET",
  path: "/v1/eip712",
  operationId: "getEip712",
  summary: "EIP-712 domain and types",
  description:
    "The domain (name, version, chain id, ledger address) and the `Payment` and `Refund` types, ready for " +
    "`eth_signTypedData_v4`. A payment's id is its EIP-712 digest.",
  auth: false,
  responses: {
    200: {
      description: "Domain and types.",
      schema: z.object({
        domain: z.object({
          name: z.string(),
          version: z.string(),
          chainId: z.number(),
          verifyingContract: z.string(),
        }),
        types: z.record(z.string(), z.array(field)),
        primaryTypes: z.array(z.string()),
      }),
    },
  },
  errors: [],
  handle: (_request, { eip712 }) => Promise.resolve({ status: 200, body: eip712 }),
});
