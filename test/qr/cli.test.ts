import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { runQrCommand } from "../../src/cli/qr.ts";
import { decodeQrSettleRequest } from "../../src/qr/decodeQrSettleRequest.ts";
import { parseEip681Uri } from "../../src/qr/parseEip681Uri.ts";
import { renderQrPng } from "../../src/qr/renderQrPng.ts";

const PIX =
  "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const PAYEE = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const ENCODE = [
  "encode",
  "--chain-id",
  "31337",
  "--ledger",
  LEDGER,
  "--payee-bank",
  "2",
  "--payee",
  PAYEE,
  "--currency",
  "HKD",
  "--amount",
  "88.50",
  "--reference",
  "INV-2024-0042",
  "--expiry",
  "1767225600",
  "--merchant-name",
  "Golden Dragon Tea",
  "--merchant-city",
  "Hong Kong",
  "--country",
  "HK",
  "--mcc",
  "5812",
];

async function run(argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const exitCode = await runQrCommand(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { exitCode, stdout, stderr };
}

describe("qrsettle qr", () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), "qrsettle-qr-"));
  });
  after(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  describe("encode", () => {
    it("prints the payload of the request the flags describe, exit 0", async () => {
      const { exitCode, stdout, stderr } = await run(ENCODE);
      expect(exitCode).to.equal(0);
      expect(stderr).to.equal("");
      expect(stdout.endsWith("\n")).to.equal(true);
      expect(decodeQrSettleRequest(stdout.trim())).to.deep.equal({
        chainId: 31337n,
        ledger: LEDGER,
        payeeBank: 2,
        payee: PAYEE,
        currency: 344,
        amount: "88.50",
        reference: "INV-2024-0042",
        expiry: 1767225600n,
        merchantName: "Golden Dragon Tea",
        merchantCity: "Hong Kong",
        countryCode: "HK",
        mcc: "5812",
        pointOfInitiation: "dynamic",
      });
    });

    it("writes PNG and SVG files, a terminal QR, the EIP-681 URI, other networks and labels", async () => {
      const png = join(directory, "code.png");
      const svg = join(directory, "code.svg");
      const { exitCode, stdout } = await run([
        ...ENCODE,
        "--account",
        "15=4798034447980344598034493990063",
        "--store-label",
        "Shop 7",
        "--alt-language",
        "ZH",
        "--alt-name",
        "金龍茶館",
        "--png",
        png,
        "--svg",
        svg,
        "--terminal",
        "--eip681",
        "--json",
      ]);
      expect(exitCode).to.equal(0);
      const jsonEnd = stdout.indexOf("\n}\n") + 2;
      const output = JSON.parse(stdout.slice(0, jsonEnd)) as { payload: string; eip681: string };
      expect(Object.keys(output)).to.deep.equal(["payload", "eip681"]);
      expect(output.payload).to.contain("15314798034447980344598034493990063").and.contain("0306Shop 7");
      expect(parseEip681Uri(output.eip681)).to.deep.include({ payee: PAYEE, amount: "88.50" });
      expect(stdout.slice(jsonEnd)).to.match(/[▀▄█]/u);
      expect(readFileSync(svg, "utf8")).to.match(/^<svg/);

      const decoded = await run(["decode", "--image", png, "--json"]);
      expect(decoded.exitCode).to.equal(0);
      const report = JSON.parse(decoded.stdout) as {
        flat: Record<string, string>;
        qrsettle: { alternateLanguage: unknown };
      };
      expect(report.flat["64.01"]).to.equal("金龍茶館");
      expect(report.qrsettle.alternateLanguage).to.deep.equal({
        languagePreference: "ZH",
        merchantName: "金龍茶館",
      });
    });

    it("writes a static code with --static", async () => {
      const args = ENCODE.filter((arg, index) => arg !== "--amount" && ENCODE[index - 1] !== "--amount");
      const { exitCode, stdout } = await run([...args, "--static"]);
      expect(exitCode).to.equal(0);
      expect(decodeQrSettleRequest(stdout.trim()))
        .to.deep.include({ pointOfInitiation: "static" })
        .and.not.have.property("amount");
    });

    it("exits 1 when the request breaks a rule", async () => {
      const { exitCode, stderr } = await run([...ENCODE, "--payee-bank", "70000"]);
      expect(exitCode).to.equal(1);
      expect(stderr)
        .to.contain("Payee bank must be an integer from 0 to 65535 (uint16).")
        .and.contain("Tag: 03");
      const tooLong = await run(ENCODE.map((arg) => (arg === "Hong Kong" ? "Hong Kong Island" : arg)));
      expect(tooLong.exitCode).to.equal(1);
      expect(tooLong.stderr).to.contain("Tag: 60");
    });

    for (const [what, argv] of [
      ["a missing flag", ENCODE.filter((arg) => arg !== "--mcc" && arg !== "5812")],
      ["--static with --amount", [...ENCODE, "--static"]],
      ["neither --static nor --amount", ENCODE.slice(0, 11).concat(ENCODE.slice(13))],
      ["an unknown flag", [...ENCODE, "--colour", "red"]],
      ["an unknown currency", ENCODE.map((arg) => (arg === "HKD" ? "XYZ" : arg))],
      ["a chain id that is not a number", ENCODE.map((arg) => (arg === "31337" ? "main" : arg))],
      ["a malformed address", ENCODE.map((arg) => (arg === PAYEE ? "0x1234" : arg))],
      ["a malformed --account", [...ENCODE, "--account", "PIX"]],
    ] as const) {
      it(`exits 2 for ${what}, with usage`, async () => {
        const { exitCode, stdout, stderr } = await run([...argv]);
        expect(exitCode).to.equal(2);
        expect(stdout).to.equal("");
        expect(stderr).to.contain("Usage:");
      });
    }
  });

  describe("decode", () => {
    it("prints the stable JSON report of a valid payload, exit 0", async () => {
      const { exitCode, stdout } = await run(["decode", PIX, "--json"]);
      expect(exitCode).to.equal(0);
      const report = JSON.parse(stdout) as Record<string, unknown>;
      expect(Object.keys(report)).to.deep.equal(["valid", "crcValid", "errors", "warnings", "flat"]);
      // The text lists data objects in payload order, which JSON.parse cannot show: "00" before "26".
      expect(stdout.indexOf('"00": "01"')).to.be.lessThan(stdout.indexOf('"26": '));
      expect(stdout.indexOf('"62.05"')).to.be.lessThan(stdout.indexOf('"63"'));
      expect(report).to.deep.equal({
        valid: true,
        crcValid: true,
        errors: [],
        warnings: [],
        flat: {
          "00": "01",
          "26": "0014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000",
          "26.00": "br.gov.bcb.pix",
          "26.01": "123e4567-e12b-12d1-a456-426655440000",
          "52": "0000",
          "53": "986",
          "58": "BR",
          "59": "Fulano de Tal",
          "60": "BRASILIA",
          "62": "0503***",
          "62.05": "***",
          "63": "1D3D",
        },
      });
    });

    it("adds the QRSettle request when our templates are present", async () => {
      const payload = (await run(ENCODE)).stdout.trim();
      const { exitCode, stdout } = await run(["decode", payload, "--json"]);
      expect(exitCode).to.equal(0);
      const report = JSON.parse(stdout) as {
        qrsettle: Record<string, unknown>;
        flat: Record<string, string>;
      };
      expect(report.qrsettle).to.deep.equal({
        chainId: "31337",
        ledger: LEDGER,
        payeeBank: 2,
        payee: PAYEE,
        currency: 344,
        amount: "88.50",
        reference: "INV-2024-0042",
        expiry: "1767225600",
        merchantName: "Golden Dragon Tea",
        merchantCity: "Hong Kong",
        countryCode: "HK",
        mcc: "5812",
        pointOfInitiation: "dynamic",
      });
      expect(report.flat["80.00"]).to.equal("io.qrsettle");
    });

    it("reports errors with exit 1: a wrong CRC, an expired code", async () => {
      const wrong = await run(["decode", `${PIX.slice(0, -4)}0000`, "--json"]);
      expect(wrong.exitCode).to.equal(1);
      const report = JSON.parse(wrong.stdout) as {
        valid: boolean;
        crcValid: boolean;
        errors: { code: string }[];
      };
      expect(report).to.include({ valid: false, crcValid: false });
      expect(report.errors.map((error) => error.code)).to.deep.equal(["CRC_MISMATCH"]);

      const payload = (await run(ENCODE)).stdout.trim();
      const expired = await run(["decode", payload, "--now", "1767225601", "--json"]);
      expect(expired.exitCode).to.equal(1);
      expect((JSON.parse(expired.stdout) as { errors: { code: string }[] }).errors[0]?.code).to.equal(
        "QRSETTLE_EXPIRED",
      );
    });

    it("lists warnings but stays valid for real-world deviations", async () => {
      const promptPay = "00020101021129370016A000000677010111011300668012345675802TH530376463046197";
      const { exitCode, stdout } = await run(["decode", promptPay]);
      expect(exitCode).to.equal(0);
      expect(stdout).to.match(/^valid \(CRC ok\)\n/);
      expect(stdout).to.contain("29.00  A000000677010111");
      expect(stdout).to.contain("warning MISSING_MANDATORY 59:");
    });

    it("exits 1 for an image without a QR code", async () => {
      const file = join(directory, "blank.png");
      writeFileSync(file, renderQrPng("x").subarray(0, 30));
      const { exitCode, stderr } = await run(["decode", "--image", file]);
      expect(exitCode).to.equal(1);
      expect(stderr).to.contain("damaged");
    });

    for (const [what, argv] of [
      ["no payload", ["decode"]],
      ["a payload and --image", ["decode", PIX, "--image", "x.png"]],
      ["two payloads", ["decode", PIX, PIX]],
      ["a missing image file", ["decode", "--image", "/nonexistent/qr.png"]],
      ["no subcommand", []],
      ["an unknown subcommand", ["print", PIX]],
    ] as const) {
      it(`exits 2 for ${what}`, async () => {
        const { exitCode, stderr } = await run([...argv]);
        expect(exitCode).to.equal(2);
        expect(stderr).to.contain("Usage:");
      });
    }
  });
});
