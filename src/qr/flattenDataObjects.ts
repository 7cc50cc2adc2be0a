import type { DataObject } from "./types.ts";

/**
 * Flattens a data object tree into "ID" and "ID.SUB" keys: every root object, and every sub-object of every
 * template that was read as TLV (deeper levels too, e.g. "62.50.00"). JavaScript objects list integer-like keys
 * such as "26" before others such as "00", so sort the keys as text to see them in payload order.
 *
 * @example
 * flattenDataObjects(decodeEmvQr(pixPayload).dataObjects)
 * // { "00": "01", "26": "0014br.gov.bcb.pix01…", "26.00": "br.gov.bcb.pix", "26.01": "123e4567-…", "52": "0000", … }
 */
export function flattenDataObjects(dataObjects: readonly DataObject[], prefix = ""): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const object of dataObjects) {
    const key = prefix + object.id;
    flat[key] = object.value;
    if (object.children !== undefined) Object.assign(flat, flattenDataObjects(object.children, `${key}.`));
  }
  return flat;
}
