import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { getAddress, isAddress } from "viem";
import { z } from "zod";

import { numberedDetails, QRSettleError } from "../protocol/errors.ts";
import type { Deployment } from "./network.ts";

const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  registry: z
    .string()
    .refine((a) => isAddress(a, { strict: false }), { error: "must be an address" })
    .transform((a) => getAddress(a)),
  fx: z
    .string()
    .refine((a) => isAddress(a, { strict: false }), { error: "must be an address" })
    .transform((a) => getAddress(a)),
  ledger: z
    .string()
    .refine((a) => isAddress(a, { strict: false }), { error: "must be an address" })
    .transform((a) => getAddress(a)),
  deployBlock: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]).transform((b) => BigInt(b)),
  banks: z.record(z.string(), z.number().int().positive()).default({}),
});

/**
 * Reads a deployment file: `{ chainId, registry, ledger, fx, deployBlock, banks }`, as `qrsettle deploy` writes
 * it. The auditor, the relayer and every operator task take one.
 *
 * @throws {QRSettleError} `DEPLOYMENT_FILE_UNREADABLE` or `DEPLOYMENT_FILE_INVALID` naming the field.
 * @example
 * const deployment = await readDeploymentFile("deployments/localhost.json");
 */
export async function readDeploymentFile(file: string): Promise<Deployment> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new QRSettleError("DEPLOYMENT_FILE_UNREADABLE", "Cannot read the deployment file as JSON.", {
      details: { File: file },
      cause,
    });
  }
  const parsed = deploymentSchema.safeParse(value);
  if (!parsed.success) {
    throw new QRSettleError("DEPLOYMENT_FILE_INVALID", "The deployment file is not valid.", {
      details: {
        File: file,
        ...numberedDetails(
          "Problem",
          parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
        ),
      },
    });
  }
  return parsed.data;
}

/**
 * Writes a deployment file (creating its directory).
 *
 * @example
 * await writeDeploymentFile("deployments/localhost.json", deployment);
 */
export async function writeDeploymentFile(file: string, deployment: Deployment): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(
    file,
    `${JSON.stringify({ ...deployment, deployBlock: Number(deployment.deployBlock) }, null, 2)}\n`,
  );
}
