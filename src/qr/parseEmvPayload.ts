import { advanceCodePoints, hasSurrogates } from "./characterSets.ts";
import { type EmvRuleCode, QrError, QrParseError, QrStructureError } from "./errors.ts";
import type { DataObject, QrIssue } from "./types.ts";

export type ParsedEmvPayload = {
  /** Whether the payload has characters outside the Basic Multilingual Plane (lengths then need counting). */
  readonly surrogates: boolean;
  /** The root data objects; templates carry their sub-objects in `children`. */
  readonly dataObjects: readonly DataObject[];
  /** Templates the lenient reader kept raw because their value is not TLV. */
  readonly warnings: readonly QrIssue<EmvRuleCode>[];
};

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** How a template's value is read: strictly (failure is an error) or leniently (failure is a warning). */
type TemplateReading = "strict" | "lenient" | "none";

function rootTemplateReading(idNumber: number): TemplateReading {
  if (idNumber >= 26 && idNumber <= 51) return "strict";
  if (idNumber === 62 || idNumber === 64) return "strict";
  // Unreserved templates belong to whoever owns their GUI; DuitNow, for one, puts raw hex in 82.
  if (idNumber >= 80) return "lenient";
  return "none";
}

function childTemplateReading(parentIdNumber: number, idNumber: number): TemplateReading {
  // Inside 62, IDs 50-99 are payment-system templates; everywhere else sub-objects are opaque values.
  return parentIdNumber === 62 && idNumber >= 50 ? "lenient" : "none";
}

type Reader = {
  readonly payload: string;
  readonly surrogates: boolean;
  readonly warnings: QrIssue<EmvRuleCode>[];
};

function isDigit(unit: number): boolean {
  return unit >= DIGIT_0 && unit <= DIGIT_9;
}

function joinPath(parentPath: string | undefined, id: string): string {
  return parentPath === undefined ? id : `${parentPath}.${id}`;
}

/**
 * Reads the data objects between UTF-16 indices `start` and `end`. `startPosition` is the code point position
 * of `start`, kept alongside so errors and objects report character positions without recounting.
 */
function readLevel(
  reader: Reader,
  start: number,
  end: number,
  startPosition: number,
  parentPath: string | undefined,
  parentIdNumber: number,
): DataObject[] {
  const { payload } = reader;
  const objects: DataObject[] = [];
  // One bit per ID 00-99, in four 25-bit words: duplicate detection without allocating a set per level.
  const seen = [0, 0, 0, 0];
  let index = start;
  let position = startPosition;
  while (index < end) {
    if (end - index < 4) {
      throw new QrParseError({
        code: "TLV_TRUNCATED",
        shortMessage: "Data ends in the middle of an ID and length header.",
        tag: parentPath,
        position,
        details: { Remaining: JSON.stringify(payload.slice(index, end)) },
      });
    }
    const id0 = payload.charCodeAt(index);
    const id1 = payload.charCodeAt(index + 1);
    const length0 = payload.charCodeAt(index + 2);
    const length1 = payload.charCodeAt(index + 3);
    if (!isDigit(id0) || !isDigit(id1) || !isDigit(length0) || !isDigit(length1)) {
      throw new QrParseError({
        code: "TLV_MALFORMED_HEADER",
        shortMessage: "ID and length must be two digits each.",
        tag: parentPath,
        position,
        details: { Header: JSON.stringify(payload.slice(index, index + 4)) },
      });
    }
    const idNumber = (id0 - DIGIT_0) * 10 + (id1 - DIGIT_0);
    const length = (length0 - DIGIT_0) * 10 + (length1 - DIGIT_0);
    const id = payload.slice(index, index + 2);
    const word = Math.floor(idNumber / 25);
    const bit = 1 << (idNumber % 25);
    if (((seen[word] ?? 0) & bit) !== 0) {
      throw new QrStructureError({
        code: "DUPLICATE_ID",
        shortMessage: `ID ${id} appears more than once${parentPath === undefined ? "" : ` in template ${parentPath}`}.`,
        tag: joinPath(parentPath, id),
        position,
      });
    }
    seen[word] = (seen[word] ?? 0) | bit;
    const valueStart = index + 4;
    const valueEnd = reader.surrogates ? advanceCodePoints(payload, valueStart, length) : valueStart + length;
    if (valueEnd === -1 || valueEnd > end) {
      throw new QrParseError({
        code: "TLV_LENGTH_OVERRUN",
        shortMessage: `Length of ${joinPath(parentPath, id)} runs past the end of ${parentPath === undefined ? "the payload" : `template ${parentPath}`}.`,
        tag: joinPath(parentPath, id),
        position,
        details: { Length: length },
      });
    }
    if (length === 0) {
      reader.warnings.push({
        code: "ZERO_LENGTH",
        message: `${joinPath(parentPath, id)} has length 00; EMV lengths start at 01.`,
        tag: joinPath(parentPath, id),
        position,
      });
    }
    const value = payload.slice(valueStart, valueEnd);
    const reading =
      parentPath === undefined
        ? rootTemplateReading(idNumber)
        : childTemplateReading(parentIdNumber, idNumber);
    const children =
      reading === "none" || length === 0
        ? undefined
        : readTemplate(
            reader,
            valueStart,
            valueEnd,
            position + 4,
            joinPath(parentPath, id),
            idNumber,
            reading,
          );
    objects.push(children === undefined ? { id, value, position } : { id, value, position, children });
    index = valueEnd;
    position += 4 + length;
  }
  return objects;
}

function readTemplate(
  reader: Reader,
  start: number,
  end: number,
  startPosition: number,
  path: string,
  idNumber: number,
  reading: "strict" | "lenient",
): DataObject[] | undefined {
  try {
    return readLevel(reader, start, end, startPosition, path, idNumber);
  } catch (error) {
    if (reading === "lenient" && error instanceof QrError) {
      reader.warnings.push({
        code: "TEMPLATE_NOT_TLV",
        message: `Template ${path} does not hold TLV data (${error.shortMessage}); kept as a raw value.`,
        tag: path,
        position: startPosition - 4,
      });
      return undefined;
    }
    if (error instanceof QrParseError) {
      throw new QrParseError({
        code: "TEMPLATE_BROKEN",
        shortMessage: `Template ${path} does not hold valid TLV data: ${error.shortMessage}`,
        tag: error.tag ?? path,
        position: error.position,
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Reads an EMV MPM payload into its data object tree and checks the rules without which the payload is
 * ambiguous: two-digit IDs and lengths, lengths counted in characters that stay inside their payload or
 * template, each ID at most once per level, "00" first and "63" last. The CRC value is not checked here.
 *
 * @throws {QrParseError} EMPTY_PAYLOAD, TLV_TRUNCATED, TLV_MALFORMED_HEADER, TLV_LENGTH_OVERRUN, TEMPLATE_BROKEN.
 * @throws {QrStructureError} DUPLICATE_ID, PAYLOAD_FORMAT_INDICATOR_NOT_FIRST, CRC_MISSING, CRC_NOT_LAST.
 *
 * @example
 * parseEmvPayload("000201...6304A13A").dataObjects[0] // { id: "00", value: "01", position: 0 }
 */
export function parseEmvPayload(payload: string): ParsedEmvPayload {
  if (payload.length === 0) {
    throw new QrParseError({ code: "EMPTY_PAYLOAD", shortMessage: "Payload is empty.", position: 0 });
  }
  const reader: Reader = { payload, surrogates: hasSurrogates(payload), warnings: [] };
  const dataObjects = readLevel(reader, 0, payload.length, 0, undefined, -1);
  const first = dataObjects[0];
  if (first?.id !== "00") {
    throw new QrStructureError({
      code: "PAYLOAD_FORMAT_INDICATOR_NOT_FIRST",
      shortMessage: 'The payload must start with the Payload Format Indicator, ID "00".',
      tag: first?.id,
      position: 0,
    });
  }
  // Hot path: a loop instead of findIndex and its callback.
  let crcIndex = -1;
  for (let index = 0; index < dataObjects.length; index++)
    if (dataObjects[index]?.id === "63") crcIndex = index;
  const crcObject = dataObjects[crcIndex];
  if (crcObject === undefined) {
    throw new QrStructureError({
      code: "CRC_MISSING",
      shortMessage: 'The payload has no CRC, ID "63".',
      tag: "63",
      position: payload.length,
    });
  }
  if (crcIndex !== dataObjects.length - 1) {
    throw new QrStructureError({
      code: "CRC_NOT_LAST",
      shortMessage: 'The CRC, ID "63", must be the last data object.',
      tag: "63",
      position: crcObject.position,
      details: {
        "Followed by": dataObjects
          .slice(crcIndex + 1)
          .map((object) => object.id)
          .join(", "),
      },
    });
  }
  return { dataObjects, warnings: reader.warnings, surrogates: reader.surrogates };
}
