/**
 * Text from the host (mount paths, exports, attachment ids) made safe to print: nothing in it
 * may start a new line, move the cursor, or reorder what a terminal shows (a Trojan-Source-style
 * bidi override in a mount path could make one mount look like another).
 *
 * @module
 */

/**
 * Characters that must not reach a terminal as they are: C0 controls and DEL, C1 controls, the
 * bidi marks, embeddings, overrides and isolates (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
 * and the Unicode line and paragraph separators (U+2028, U+2029).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** {@link UNSAFE} less the C0 controls, which `JSON.stringify` escapes in strings itself (and which are its line breaks outside them). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * Escapes what {@link UNSAFE} matches: a C0 control as mountinfo writes it (`\012` for a
 * newline), anything else as `\u` and four hex digits (`\u202e`).
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 ? `\\${code.toString(8).padStart(3, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * `JSON.stringify` that also escapes, as `\uXXXX`, the characters it leaves raw but a terminal
 * acts on (C1 controls, DEL, bidi controls, U+2028/U+2029). The result parses back to the same
 * value.
 */
export function printableJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
