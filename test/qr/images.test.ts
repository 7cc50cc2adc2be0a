import { expect } from "chai";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

import { decodeQrImage } from "../../src/qr/decodeQrImage.ts";
import { decodeQrSettleRequest } from "../../src/qr/decodeQrSettleRequest.ts";
import { encodeQrSettleRequest } from "../../src/qr/encodeQrSettleRequest.ts";
import { QrImageError } from "../../src/qr/errors.ts";
import type { QrSettleRequest } from "../../src/qr/qrSettleRequest.ts";
import { renderQrPng } from "../../src/qr/renderQrPng.ts";
import { renderQrSvg } from "../../src/qr/renderQrSvg.ts";
import { renderQrTerminal } from "../../src/qr/renderQrTerminal.ts";

const REQUEST: QrSettleRequest = {
  chainId: 31337n,
  ledger: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  payeeBank: 2,
  payee: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  currency: 156,
  amount: "23.72",
  reference: "ORDER-8848",
  merchantName: "BEST TRANSPORT",
  merchantCity: "BEIJING",
  countryCode: "CN",
  mcc: "4111",
  pointOfInitiation: "dynamic",
  alternateLanguage: { languagePreference: "ZH", merchantName: "最佳运输", merchantCity: "北京" },
};
const PAYLOAD = encodeQrSettleRequest(REQUEST);
/** All-uppercase, so a generic encoder would pick alphanumeric mode; EMV wants byte mode. */
const PROMPTPAY = "00020101021129370016A000000677010111011300668012345675802TH530376463046197";

function toJpeg(png: Uint8Array, quality: number): Uint8Array {
  const image = PNG.sync.read(Buffer.from(png));
  return jpeg.encode({ width: image.width, height: image.height, data: image.data }, quality).data;
}

function imageError(bytes: Uint8Array): QrImageError {
  try {
    decodeQrImage(bytes);
  } catch (error) {
    expect(error).to.be.instanceOf(QrImageError);
    return error as QrImageError;
  }
  expect.fail("expected decodeQrImage to throw");
}

describe("QR images", () => {
  it("PNG: render then read gives the identical payload, Chinese name included", () => {
    const png = renderQrPng(PAYLOAD);
    expect([...png.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const read = decodeQrImage(png);
    expect(read).to.equal(PAYLOAD);
    expect(decodeQrSettleRequest(read)).to.deep.equal(REQUEST);
  });

  it("JPEG: a lossy copy still reads back identically", () => {
    for (const quality of [90, 60]) {
      expect(
        decodeQrImage(toJpeg(renderQrPng(PAYLOAD, { scale: 6 }), quality)),
        `quality ${quality}`,
      ).to.equal(PAYLOAD);
    }
  });

  it("PNG at every error correction level, and for an all-uppercase payload", () => {
    for (const errorCorrection of ["low", "medium", "quartile", "high"] as const) {
      expect(decodeQrImage(renderQrPng(PAYLOAD, { errorCorrection, scale: 4 })), errorCorrection).to.equal(
        PAYLOAD,
      );
    }
    expect(decodeQrImage(renderQrPng(PROMPTPAY))).to.equal(PROMPTPAY);
  });

  it("PNG size follows scale and margin", () => {
    const small = PNG.sync.read(Buffer.from(renderQrPng(PROMPTPAY, { scale: 1, margin: 1 })));
    const large = PNG.sync.read(Buffer.from(renderQrPng(PROMPTPAY, { scale: 3, margin: 4 })));
    expect(large.width).to.equal((small.width + 6) * 3);
    expect(small.width).to.equal(small.height);
  });

  it("SVG is a standalone image", () => {
    const svg = renderQrSvg(PAYLOAD);
    expect(svg).to.match(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg)
      .to.contain("<path")
      .and.match(/<\/svg>\s*$/);
  });

  it("terminal output is rows of half blocks of equal width", () => {
    const rows = renderQrTerminal(PROMPTPAY)
      .split("\n")
      .filter((row) => row.length > 0);
    expect(rows.length).to.be.greaterThan(10);
    expect(new Set(rows.map((row) => Array.from(row).length)).size).to.equal(1);
    expect(rows.join("")).to.match(/^[ ▀▄█]+$/u);
  });

  it("refuses files that are not PNG or JPEG, damaged images, and images without a code", () => {
    expect(imageError(new TextEncoder().encode("GIF89a...")).code).to.equal("IMAGE_FORMAT_UNSUPPORTED");
    const png = renderQrPng(PROMPTPAY);
    expect(imageError(png.subarray(0, 60)).code).to.equal("IMAGE_UNREADABLE");
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(0xff);
    expect(imageError(new Uint8Array(PNG.sync.write(blank))).code).to.equal("IMAGE_NO_QR_CODE");
  });
});
