/**
 * Encrypted key files in the Web3 Secret Storage format (version 3), the format geth, ethers, Foundry's
 * `cast wallet` and MetaMask export: the key is AES-128-CTR encrypted under a key derived from a password with
 * scrypt (or PBKDF2), and a keccak MAC detects a wrong password.
 */
import {
  createCipheriv,
  createDecipheriv,
  pbkdf2Sync,
  randomBytes,
  randomUUID,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";

import { keccak256, type Address, type Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { z } from "zod";

import { RelayerError } from "../errors.ts";

const hex = z.string().regex(/^(0x)?[0-9a-fA-F]*$/);
const keystoreSchema = z.object({
  version: z.literal(3),
  address: z.string().optional(),
  crypto: z.object({
    cipher: z.literal("aes-128-ctr"),
    cipherparams: z.object({ iv: hex }),
    ciphertext: hex,
    kdf: z.enum(["scrypt", "pbkdf2"]),
    kdfparams: z.object({
      dklen: z.number().int(),
      salt: hex,
      n: z.number().int().optional(),
      r: z.number().int().optional(),
      p: z.number().int().optional(),
      c: z.number().int().optional(),
      prf: z.literal("hmac-sha256").optional(),
    }),
    mac: hex,
  }),
});

const bytes = (value: string) => Buffer.from(value.replace(/^0x/, ""), "hex");

function deriveKey(
  kdf: "scrypt" | "pbkdf2",
  params: z.infer<typeof keystoreSchema>["crypto"]["kdfparams"],
  password: string,
): Buffer {
  const salt = bytes(params.salt);
  if (kdf === "pbkdf2") return pbkdf2Sync(password, salt, params.c ?? 262_144, params.dklen, "sha256");
  const N = params.n ?? 262_144;
  const r = params.r ?? 8;
  const p = params.p ?? 1;
  return scryptSync(password, salt, params.dklen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
}

const macOf = (derived: Buffer, ciphertext: Buffer) =>
  Buffer.from(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2), "hex");

/**
 * Decrypts a v3 keystore with its password.
 *
 * @throws {RelayerError} `KEYSTORE_INVALID` (not a v3 AES-128-CTR keystore) or `KEYSTORE_WRONG_PASSWORD`.
 * @example
 * const key = decryptKeystore(await readFile("relayer-1.json", "utf8"), process.env.RELAYER_1_PASSWORD!);
 */
export function decryptKeystore(json: string, password: string): Hex {
  let parsed: z.infer<typeof keystoreSchema>;
  try {
    const raw = JSON.parse(json) as Record<string, unknown>;
    // Some writers (ethers, old geth) spell the section "Crypto"; geth reads either.
    parsed = keystoreSchema.parse({ ...raw, crypto: raw.crypto ?? raw.Crypto });
  } catch (error) {
    throw new RelayerError("KEYSTORE_INVALID", "Not a version 3 (AES-128-CTR) keystore.", { cause: error });
  }
  const { kdf, kdfparams, ciphertext, cipherparams, mac } = parsed.crypto;
  const derived = deriveKey(kdf, kdfparams, password);
  const cipherBytes = bytes(ciphertext);
  const expected = bytes(mac);
  const actual = macOf(derived, cipherBytes);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new RelayerError("KEYSTORE_WRONG_PASSWORD", "The keystore's password is wrong.");
  }
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), bytes(cipherparams.iv));
  const key = Buffer.concat([decipher.update(cipherBytes), decipher.final()]);
  return `0x${key.toString("hex")}`;
}

/**
 * Encrypts a private key into a v3 keystore (scrypt, N = 2^18 as geth's default unless given).
 *
 * @example
 * await writeFile("relayer-1.json", encryptKeystore(privateKey, password));
 */
export function encryptKeystore(privateKey: Hex, password: string, scryptN = 262_144): string {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const params = { dklen: 32, n: scryptN, r: 8, p: 1, salt: salt.toString("hex") };
  const derived = deriveKey("scrypt", params, password);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(bytes(privateKey)), cipher.final()]);
  const address: Address = privateKeyToAddress(privateKey);
  return JSON.stringify({
    version: 3,
    id: randomUUID(),
    address: address.slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: iv.toString("hex") },
      ciphertext: ciphertext.toString("hex"),
      kdf: "scrypt",
      kdfparams: params,
      mac: macOf(derived, ciphertext).toString("hex"),
    },
  });
}
