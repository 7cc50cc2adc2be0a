import { expect } from "chai";

import { decodeEmvQr } from "../../src/qr/decodeEmvQr.ts";
import { encodeEmvQr } from "../../src/qr/encodeEmvQr.ts";
import { QrEncodeError } from "../../src/qr/errors.ts";
import type { EmvQrInput } from "../../src/qr/types.ts";

const BASE: EmvQrInput = {
  pointOfInitiation: "dynamic",
  merchantAccounts: [{ id: "15", value: "37210116372101160123456789ABCDE" }],
  merchantCategoryCode: "5812",
  transactionCurrency: "156",
  transactionAmount: "23.72",
  countryCode: "CN",
  merchantName: "BEST TRANSPORT",
  merchantCity: "BEIJING",
};

function encodeError(input: EmvQrInput): QrEncodeError {
  try {
    encodeEmvQr(input);
  } catch (error) {
    expect(error).to.be.instanceOf(QrEncodeError);
    return error as QrEncodeError;
  }
  expect.fail("expected encodeEmvQr to refuse the input");
}

describe("encodeEmvQr", () => {
  it("writes 00 first, IDs ascending, 63 last with an uppercase CRC", () => {
    const payload = encodeEmvQr({
      ...BASE,
      merchantAccounts: [
        { id: "29", globallyUniqueIdentifier: "D15600000000", fields: { "05": "A93FO3230Q" } },
        { id: "15", value: "37210116372101160123456789ABCDE" },
      ],
      merchantInformationLanguage: {
        languagePreference: "ZH",
        merchantName: "最佳运输",
        merchantCity: "北京",
      },
      tipOrConvenience: { kind: "prompt" },
      additionalData: {
        storeLabel: "1234",
        customerLabel: "***",
        terminalLabel: "A6008667",
        additionalConsumerDataRequest: "ME",
      },
      unreservedTemplates: [
        { id: "91", globallyUniqueIdentifier: "A011223344998877", fields: { "07": "12345678" } },
      ],
    });
    expect(payload).to.equal(
      "0002010102121531372101163721011601234567" +
        "89ABCDE29300012D156000000000510A93FO3230Q520458125303156540523.72550201" +
        "5802CN5914BEST TRANSPORT6007BEIJING6233030412340603***0708A60086670902ME" +
        "64200002ZH0104最佳运输0202北京91320016A0112233449988770708123456786304" +
        payload.slice(-4),
    );
    expect(payload.slice(-4)).to.match(/^[0-9A-F]{4}$/);
    expect(decodeEmvQr(payload).warnings).to.deep.equal([]);
  });

  it("counts lengths in characters: 最佳运输 is 04", () => {
    const payload = encodeEmvQr({
      ...BASE,
      merchantInformationLanguage: { languagePreference: "ZH", merchantName: "最佳运输" },
    });
    expect(payload).to.contain("64140002ZH0104最佳运输");
  });

  it("leaves out optional objects and an empty additional data template", () => {
    const staticInput: EmvQrInput = {
      merchantAccounts: BASE.merchantAccounts,
      merchantCategoryCode: BASE.merchantCategoryCode,
      transactionCurrency: BASE.transactionCurrency,
      countryCode: BASE.countryCode,
      merchantName: BASE.merchantName,
      merchantCity: BASE.merchantCity,
    };
    const payload = encodeEmvQr({ ...staticInput, additionalData: {} });
    expect(decodeEmvQr(payload).dataObjects.map((object) => object.id)).to.deep.equal([
      "00",
      "15",
      "52",
      "53",
      "58",
      "59",
      "60",
      "63",
    ]);
  });

  it("writes fixed and percentage convenience fees", () => {
    expect(encodeEmvQr({ ...BASE, tipOrConvenience: { kind: "fixed", fee: "5.00" } })).to.contain(
      "550202" + "56045.00",
    );
    expect(encodeEmvQr({ ...BASE, tipOrConvenience: { kind: "percentage", percentage: "3.00" } })).to.contain(
      "550203" + "57043.00",
    );
  });

  const refusals: [string, EmvQrInput, QrEncodeError["code"], string][] = [
    ["a merchant name over 25 characters", { ...BASE, merchantName: "A".repeat(26) }, "VALUE_TOO_LONG", "59"],
    ["a city over 15 characters", { ...BASE, merchantCity: "Banteay Meanchey" }, "VALUE_TOO_LONG", "60"],
    [
      "a non-ASCII name in 59 (it belongs in 64)",
      { ...BASE, merchantName: "最佳运输" },
      "VALUE_FORMAT",
      "59",
    ],
    ["a comma as decimal mark", { ...BASE, transactionAmount: "98,73" }, "AMOUNT_INVALID", "54"],
    ["a zero amount", { ...BASE, transactionAmount: "0.00" }, "AMOUNT_INVALID", "54"],
    [
      "more decimals than the currency has",
      { ...BASE, transactionCurrency: "392", transactionAmount: "1.5" },
      "AMOUNT_DECIMALS",
      "54",
    ],
    [
      "an amount over 13 characters",
      { ...BASE, transactionAmount: "12345678901.23" },
      "VALUE_TOO_LONG",
      "54",
    ],
    ["a three-digit MCC", { ...BASE, merchantCategoryCode: "581" }, "VALUE_LENGTH", "52"],
    ["a letter in the currency code", { ...BASE, transactionCurrency: "1X6" }, "VALUE_FORMAT", "53"],
    ["a lowercase country code", { ...BASE, countryCode: "cn" }, "VALUE_FORMAT", "58"],
    ["no merchant account", { ...BASE, merchantAccounts: [] }, "MISSING_MERCHANT_ACCOUNT", "02-51"],
    [
      "a merchant account in 52",
      { ...BASE, merchantAccounts: [{ id: "52", value: "x" }] },
      "INVALID_ID",
      "52",
    ],
    [
      "a template in 80 as merchant account",
      { ...BASE, merchantAccounts: [{ id: "80", globallyUniqueIdentifier: "a.b" }] },
      "INVALID_ID",
      "80",
    ],
    [
      "the same merchant account ID twice",
      {
        ...BASE,
        merchantAccounts: [
          { id: "15", value: "a" },
          { id: "15", value: "b" },
        ],
      },
      "DUPLICATE_ID",
      "15",
    ],
    [
      "a GUI over 32 characters",
      { ...BASE, merchantAccounts: [{ id: "26", globallyUniqueIdentifier: "x".repeat(33) }] },
      "VALUE_TOO_LONG",
      "26.00",
    ],
    [
      "a template over 99 characters",
      {
        ...BASE,
        merchantAccounts: [{ id: "26", globallyUniqueIdentifier: "a.b", fields: { "01": "x".repeat(90) } }],
      },
      "VALUE_TOO_LONG",
      "26",
    ],
    [
      "a raw template value that is not TLV",
      { ...BASE, merchantAccounts: [{ id: "26", value: "0099abc" }] },
      "VALUE_FORMAT",
      "26.00",
    ],
    [
      "a template sub-tag 00 given as a field",
      { ...BASE, merchantAccounts: [{ id: "26", globallyUniqueIdentifier: "a.b", fields: { "00": "x" } }] },
      "INVALID_ID",
      "26.00",
    ],
    ["an empty value", { ...BASE, merchantCity: "" }, "VALUE_EMPTY", "60"],
    ["a zero fixed fee", { ...BASE, tipOrConvenience: { kind: "fixed", fee: "0" } }, "TIP_RULES", "56"],
    [
      "a 100 % fee",
      { ...BASE, tipOrConvenience: { kind: "percentage", percentage: "100" } },
      "TIP_RULES",
      "57",
    ],
    [
      "a bill number over 25 characters",
      { ...BASE, additionalData: { billNumber: "B".repeat(26) } },
      "VALUE_TOO_LONG",
      "62.01",
    ],
    [
      "a consumer data request other than A, M, E",
      { ...BASE, additionalData: { additionalConsumerDataRequest: "MX" } },
      "VALUE_FORMAT",
      "62.09",
    ],
    [
      "a repeated consumer data request",
      { ...BASE, additionalData: { additionalConsumerDataRequest: "MM" } },
      "VALUE_FORMAT",
      "62.09",
    ],
    [
      "a merchant channel out of range",
      { ...BASE, additionalData: { merchantChannel: "800" } },
      "VALUE_FORMAT",
      "62.11",
    ],
    [
      "a payment system template outside 50-99 in 62",
      {
        ...BASE,
        additionalData: { paymentSystemTemplates: [{ id: "12", globallyUniqueIdentifier: "a.b" }] },
      },
      "INVALID_ID",
      "62.12",
    ],
    [
      "an alternate-language name over 25 characters",
      { ...BASE, merchantInformationLanguage: { languagePreference: "ZH", merchantName: "最".repeat(26) } },
      "VALUE_TOO_LONG",
      "64.01",
    ],
    [
      "a language code that is not two characters",
      { ...BASE, merchantInformationLanguage: { languagePreference: "ZHO", merchantName: "最佳" } },
      "VALUE_LENGTH",
      "64.00",
    ],
    [
      "an unreserved template outside 80-99",
      { ...BASE, unreservedTemplates: [{ id: "65", globallyUniqueIdentifier: "a.b" }] },
      "INVALID_ID",
      "65",
    ],
    [
      "a control character in an unreserved template",
      {
        ...BASE,
        unreservedTemplates: [{ id: "80", globallyUniqueIdentifier: "a.b", fields: { "01": "a\u0007b" } }],
      },
      "VALUE_FORMAT",
      "80.01",
    ],
  ];
  for (const [rule, input, code, tag] of refusals) {
    it(`refuses ${rule}, naming ${code} and tag ${tag}`, () => {
      const error = encodeError(input);
      expect(error).to.include({ code, tag });
      expect(error.message).to.contain(`Tag: ${tag}`);
    });
  }
});
