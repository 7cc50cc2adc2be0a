/**
 * The three EMV MPM value formats, and character counting. EMV lengths count characters, and a character is a
 * Unicode code point here: JavaScript's `length` counts UTF-16 units, so "𠀋" would count twice.
 */

/** EMV format of a data object's value. */
export type ValueFormat = "N" | "ans" | "S";

const SURROGATE = /[\uD800-\uDFFF]/;
const NUMERIC = /^[0-9]+$/;
/** EMV Book 4 Common Character Set: in practice printable ASCII, 0x20 to 0x7E. */
const ANS = /^[\x20-\x7E]+$/;
/**
 * Any precomposed Unicode character, but no control characters (they have no printed form, and C1 controls
 * change how terminals render what follows) and no lone surrogates (they cannot be encoded as UTF-8).
 */
const UNICODE_S = /^(?:[^\p{Cc}\p{Cs}])+$/u;

/** True if every character of `text` is a digit 0-9 (and there is at least one). */
function isNumeric(text: string): boolean {
  return NUMERIC.test(text);
}

/** True if every character of `text` is printable ASCII (and there is at least one). */
function isAns(text: string): boolean {
  return ANS.test(text);
}

/** True if `text` is non-empty, well-formed Unicode without control characters. */
function isUnicodeS(text: string): boolean {
  return UNICODE_S.test(text);
}

/**
 * True if `text` is non-empty and matches the EMV value format.
 *
 * @example
 * matchesFormat("5812", "N") // true
 * matchesFormat("最佳运输", "ans") // false: printable ASCII only
 * matchesFormat("最佳运输", "S") // true
 */
export function matchesFormat(text: string, format: ValueFormat): boolean {
  return format === "N" ? isNumeric(text) : format === "ans" ? isAns(text) : isUnicodeS(text);
}

/**
 * True if `text` holds any UTF-16 surrogate, i.e. characters outside the Basic Multilingual Plane. Without
 * them, UTF-16 indices are character positions and counting can be skipped.
 *
 * @example
 * hasSurrogates("最佳运输") // false
 * hasSurrogates("𠀋") // true
 */
export function hasSurrogates(text: string): boolean {
  return SURROGATE.test(text);
}

/**
 * Number of characters (Unicode code points) in `text`, the unit EMV lengths count in.
 *
 * @example
 * codePointLength("最佳运输") // 4
 * codePointLength("𠀋") // 1, although "𠀋".length is 2
 */
export function codePointLength(text: string): number {
  if (!hasSurrogates(text)) return text.length;
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    count++;
  }
  return count;
}

/**
 * UTF-16 index reached by advancing `count` code points from `start`, or -1 if `text` ends first.
 *
 * @example
 * advanceCodePoints("a𠀋b", 0, 2) // 3: "a" is one unit, "𠀋" two
 */
export function advanceCodePoints(text: string, start: number, count: number): number {
  let index = start;
  for (let remaining = count; remaining > 0; remaining--) {
    if (index >= text.length) return -1;
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      index += next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    } else {
      index++;
    }
  }
  return index;
}
