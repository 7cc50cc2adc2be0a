import { expect } from "chai";
import fc from "fast-check";

import { formatAmount } from "../../src/protocol/amounts.ts";
import { currencies, formatCurrencyNumeric } from "../../src/protocol/currencies.ts";
import { decodeEmvQr } from "../../src/qr/decodeEmvQr.ts";
import { decodeQrSettleRequest } from "../../src/qr/decodeQrSettleRequest.ts";
import { encodeEmvQr } from "../../src/qr/encodeEmvQr.ts";
import { encodeQrSettleRequest } from "../../src/qr/encodeQrSettleRequest.ts";
import { QrError } from "../../src/qr/errors.ts";
import { inspectEmvQr } from "../../src/qr/inspectEmvQr.ts";
import { parseEip681Uri } from "../../src/qr/parseEip681Uri.ts";
import type { QrSettlePaymentTarget, QrSettleRequest } from "../../src/qr/qrSettleRequest.ts";
import { toEip681Uri } from "../../src/qr/toEip681Uri.ts";
import { toEmvQrInput } from "../../src/qr/toEmvQrInput.ts";
import type { EmvQrInput, EmvTemplateInput, MerchantAccountInput } from "../../src/qr/types.ts";

const characters = (from: number, to: number) =>
  fc.integer({ min: from, max: to }).map((code) => String.fromCharCode(code));
/** Printable ASCII, EMV's "ans". */
const ans = (minLength: number, maxLength: number) =>
  fc.string({ unit: characters(0x20, 0x7e), minLength, maxLength });
const digits = (length: number) =>
  fc.string({ unit: characters(0x30, 0x39), minLength: length, maxLength: length });

/** Any script: Latin, CJK, and CJK outside the BMP (two UTF-16 units, one EMV character). */
const unicodeText = (maxLength: number) =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0x20, max: 0x7e }),
        fc.integer({ min: 0xc0, max: 0x24f }),
        fc.integer({ min: 0x4e00, max: 0x9fff }),
        fc.integer({ min: 0x20000, max: 0x2a6df }),
      ),
      { minLength: 1, maxLength },
    )
    .map((codePoints) => String.fromCodePoint(...codePoints));

const twoDigitId = (min: number, max: number) =>
  fc.integer({ min, max }).map((id) => id.toString().padStart(2, "0"));
const upperLetters = (length: number) =>
  fc.string({ unit: characters(0x41, 0x5a), minLength: length, maxLength: length });
const currency = fc.constantFrom(...currencies);
/** A canonical amount for a currency: 1 unit up to 12 digits, so it fits tag 54's 13 characters. */
const amountFor = (exponent: number) =>
  fc.bigInt({ min: 1n, max: 10n ** 12n - 1n }).map((units) => formatAmount(units, exponent));

const templateFields = (value: fc.Arbitrary<string>) =>
  fc.dictionary(twoDigitId(1, 99), value, { minKeys: 0, maxKeys: 2 });

const template = (id: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<EmvTemplateInput> =>
  fc.record({ id, globallyUniqueIdentifier: ans(1, 20), fields: templateFields(value) });

const merchantAccount: fc.Arbitrary<MerchantAccountInput> = fc.oneof(
  fc.record({ id: twoDigitId(2, 25), value: ans(1, 40) }),
  template(twoDigitId(26, 51), ans(1, 12)),
);

const emvQrInput: fc.Arbitrary<EmvQrInput> = currency.chain((chosen) =>
  fc.record(
    {
      pointOfInitiation: fc.constantFrom("static" as const, "dynamic" as const),
      merchantAccounts: fc.uniqueArray(merchantAccount, {
        minLength: 1,
        maxLength: 2,
        selector: (account) => account.id,
      }),
      merchantCategoryCode: digits(4),
      transactionCurrency: fc.constant(formatCurrencyNumeric(chosen.numeric)),
      transactionAmount: amountFor(chosen.exponent),
      tipOrConvenience: fc.oneof(
        fc.constant({ kind: "prompt" as const }),
        amountFor(chosen.exponent).map((fee) => ({ kind: "fixed" as const, fee })),
        fc
          .constantFrom("0.01", "3.00", "12.5", "99.99", "7")
          .map((percentage) => ({ kind: "percentage" as const, percentage })),
      ),
      countryCode: upperLetters(2),
      merchantName: ans(1, 25),
      merchantCity: ans(1, 15),
      postalCode: ans(1, 10),
      additionalData: fc.record(
        {
          billNumber: ans(1, 12),
          referenceLabel: ans(1, 12),
          terminalLabel: ans(1, 12),
          additionalConsumerDataRequest: fc.constantFrom("A", "M", "E", "AM", "ME", "EAM"),
          merchantChannel: fc.stringMatching(/^[0-7][0-3][0-3]$/),
        },
        { requiredKeys: [] },
      ),
      merchantInformationLanguage: fc.record(
        { languagePreference: upperLetters(2), merchantName: unicodeText(25), merchantCity: unicodeText(15) },
        { requiredKeys: ["languagePreference", "merchantName"] },
      ),
      unreservedTemplates: fc.array(template(twoDigitId(80, 99), unicodeText(12)), { maxLength: 1 }),
    },
    {
      requiredKeys: [
        "merchantAccounts",
        "merchantCategoryCode",
        "transactionCurrency",
        "countryCode",
        "merchantName",
        "merchantCity",
      ],
    },
  ),
);

/** What the decoder gives back for an input: templates in ID order, empty optional parts left out. */
function normalize(input: EmvQrInput): EmvQrInput {
  const byId = <item extends { id: string }>(items: readonly item[]) =>
    [...items].sort((a, b) => Number(a.id) - Number(b.id));
  const withFields = (item: MerchantAccountInput): MerchantAccountInput =>
    "globallyUniqueIdentifier" in item ? { ...item, fields: item.fields ?? {} } : item;
  const { additionalData, unreservedTemplates, ...rest } = input;
  return {
    ...rest,
    merchantAccounts: byId(input.merchantAccounts).map(withFields),
    ...(additionalData === undefined || Object.keys(additionalData).length === 0 ? {} : { additionalData }),
    unreservedTemplates: byId(unreservedTemplates ?? []).map((item) => ({
      ...item,
      fields: item.fields ?? {},
    })),
  };
}

const hexAddress = fc
  .string({ unit: fc.constantFrom(...Array.from("0123456789abcdefABCDEF")), minLength: 40, maxLength: 40 })
  .map((hex) => `0x${hex}` as const);

const qrSettleRequest: fc.Arbitrary<QrSettleRequest> = fc
  .tuple(currency, fc.boolean())
  .chain(([chosen, dynamic]) =>
    fc.record(
      {
        chainId: fc.bigInt({ min: 1n, max: 10n ** 36n - 1n }),
        ledger: hexAddress,
        payeeBank: fc.integer({ min: 0, max: 65535 }),
        payee: hexAddress,
        currency: fc.constant(chosen.numeric),
        amount: dynamic ? amountFor(chosen.exponent) : fc.constant(undefined),
        reference: ans(1, 25).filter((reference) => reference !== "***"),
        expiry: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        merchantName: ans(1, 25),
        merchantCity: ans(1, 15),
        countryCode: upperLetters(2),
        mcc: digits(4),
        pointOfInitiation: fc.constant(dynamic ? ("dynamic" as const) : ("static" as const)),
        alternateLanguage: fc.record(
          {
            languagePreference: upperLetters(2),
            merchantName: unicodeText(25),
            merchantCity: unicodeText(15),
          },
          { requiredKeys: ["languagePreference", "merchantName"] },
        ),
      },
      {
        requiredKeys: [
          ...(dynamic ? (["amount"] as const) : []),
          "chainId",
          "ledger",
          "payeeBank",
          "payee",
          "currency",
          "merchantName",
          "merchantCity",
          "countryCode",
          "mcc",
          "pointOfInitiation",
        ],
      },
    ),
  )
  .map(
    (request) =>
      Object.fromEntries(
        Object.entries(request).filter(([, value]) => value !== undefined),
      ) as QrSettleRequest,
  );

describe("properties", () => {
  it("encode then decode gives back the input, in any script", () => {
    fc.assert(
      fc.property(emvQrInput, (input) => {
        const code = decodeEmvQr(encodeEmvQr(input));
        expect(code.warnings).to.deep.equal([]);
        expect(toEmvQrInput(code)).to.deep.equal(normalize(input));
      }),
      { numRuns: 500 },
    );
  });

  it("the CRC catches any single-character change", () => {
    fc.assert(
      fc.property(emvQrInput, fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (input, where, replacement) => {
        const payload = encodeEmvQr(input);
        // ASCII for ASCII changes exactly one byte, an error CRC-16 always detects; the CRC digits themselves
        // are excluded because their case may change freely.
        const positions = Array.from(payload.slice(0, -4)).flatMap((character, index) =>
          character.charCodeAt(0) < 0x80 && character.charCodeAt(0) !== replacement ? [index] : [],
        );
        const index = positions[where % positions.length] ?? 0;
        const characters = Array.from(payload);
        characters[index] = String.fromCharCode(replacement);
        const mutated = characters.join("");
        expect(inspectEmvQr(mutated).crcValid).to.equal(false);
        expect(() => decodeEmvQr(mutated)).to.throw(QrError);
      }),
      { numRuns: 500 },
    );
  });

  it("QRSettle requests round-trip through the EMV payload", () => {
    fc.assert(
      fc.property(qrSettleRequest, (request) => {
        const decoded = decodeQrSettleRequest(encodeQrSettleRequest(request));
        expect(decoded).to.deep.equal({
          ...request,
          ledger: request.ledger.toLowerCase(),
          payee: request.payee.toLowerCase(),
        });
      }),
      { numRuns: 500 },
    );
  });

  it("QRSettle requests round-trip through the EIP-681 URI", () => {
    fc.assert(
      fc.property(qrSettleRequest, (request) => {
        const target: QrSettlePaymentTarget = {
          chainId: request.chainId,
          ledger: request.ledger.toLowerCase() as `0x${string}`,
          payeeBank: request.payeeBank,
          payee: request.payee.toLowerCase() as `0x${string}`,
          currency: request.currency,
          ...(request.amount === undefined ? {} : { amount: request.amount }),
          ...(request.reference === undefined ? {} : { reference: request.reference }),
          ...(request.expiry === undefined ? {} : { expiry: request.expiry }),
        };
        expect(parseEip681Uri(toEip681Uri(request))).to.deep.equal(target);
      }),
      { numRuns: 500 },
    );
  });

  it("the decoder never fails with anything but a QrError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), unicodeText(60), ans(0, 80)), (text) => {
        try {
          decodeEmvQr(text);
        } catch (error) {
          expect(error).to.be.instanceOf(QrError);
        }
        expect(inspectEmvQr(text).valid).to.be.a("boolean");
      }),
      { numRuns: 1000 },
    );
  });
});
