import { expect } from 'chai';
import { QUOTE_MAX_CHARS, quoteInput } from '../../lib/text/quote-input.js';

describe('quoteInput()', () => {
  it('quotes a short string as a JSON string literal', () => {
    expect(quoteInput('a"b\\c\n')).to.equal('"a\\"b\\\\c\\n"');
  });

  it(`keeps at most ${QUOTE_MAX_CHARS} characters and says how many more there were`, () => {
    const quoted = quoteInput('x'.repeat(1_000_000));
    expect(quoted).to.equal(`"${'x'.repeat(200)}"… (999800 more characters)`);
  });

  it('never cuts a surrogate pair in half', () => {
    const quoted = quoteInput(`${'x'.repeat(199)}😀tail`);
    expect(quoted.startsWith(`"${'x'.repeat(199)}"`)).to.equal(true);
    expect(quoted).to.match(/\(6 more characters\)$/);
  });

  it('escapes lone surrogates, bidi controls and line separators so they cannot act on a terminal', () => {
    expect(quoteInput('\uD800\u202Eevil\u2028\u2029\u2066\u200F')).to.equal('"\\ud800\\u202eevil\\u2028\\u2029\\u2066\\u200f"');
  });

  it('names the kind of a value that is not a string, never its content', () => {
    expect([null, [1], 12, {}, undefined, true].map((value) => quoteInput(value))).to.deep.equal(['null', 'an array', 'a number', 'an object', 'undefined', 'a boolean']);
  });
});
