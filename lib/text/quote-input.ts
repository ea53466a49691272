/**
 * Quoting untrusted input in error messages: bounded, on one line, and unable to reorder the
 * text around it.
 *
 * @module
 */

/** The most characters of one input value an error message quotes. */
export const QUOTE_MAX_CHARS = 200;

/** Bidi controls, line and paragraph separators: JSON leaves them raw, a terminal obeys them. */
const INVISIBLE_CONTROLS = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A value as it should appear in an error message: a string as a JSON string literal of at most
 * {@link QUOTE_MAX_CHARS} characters (then `…` and how many more there were), with control,
 * bidi and line-separator characters and lone surrogates as `\u` escapes; anything else as its
 * kind (`null`, `an array`, `a number`, ...), never its content.
 *
 * @param value - What the caller gave.
 * @param maxChars - How many characters of a string to keep.
 * @returns Text safe to put in a message or a log line.
 */
export function quoteInput(value: unknown, maxChars: number = QUOTE_MAX_CHARS): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'undefined';
  if (typeof value !== 'string') return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  let kept = value.length > maxChars ? value.slice(0, maxChars) : value;
  // Never cut a surrogate pair in half.
  if (kept.length < value.length && /[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  const quoted = JSON.stringify(kept).replace(INVISIBLE_CONTROLS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const more = value.length - kept.length;
  return more > 0 ? `${quoted}… (${more} more characters)` : quoted;
}
