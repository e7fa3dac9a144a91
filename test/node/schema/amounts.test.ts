/**
 * The one parser of amounts, quantities and percents people type (domain/amounts.ts): what formatMinor
 * prints reads back to the same minor units, whatever it accepts prints back to the same value, and
 * anything ambiguous or not a number is refused with words for people, never NaN and never a throw.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AMOUNT_EXAMPLE, formatMinor, parseAmountMinor, parsePercentBp, parseQuantity } from "../../../domain/amounts.js";
import { MAX_AMOUNT_MINOR, MAX_LINE_QUANTITY, MAX_UNIT_PRICE_MINOR } from "../../../domain/limits.js";

const amount = fc.oneof(fc.integer({ min: 0, max: 1_000_000_00 }), fc.integer({ min: 0, max: MAX_AMOUNT_MINOR }), fc.constantFrom(0, 1, 99, 100, MAX_AMOUNT_MINOR));
/** Spellings people type: grouped or not, by "," or by spaces, with 0, 1 or 2 decimals, padded. */
function spellings(minor: number): string[] {
  const whole = Math.floor(minor / 100);
  const cents = minor % 100;
  const grouped = (sep: string) => whole.toLocaleString("en-US").replaceAll(",", sep);
  const tails = cents === 0 ? ["", ".0", ".00"] : cents % 10 === 0 ? [`.${cents / 10}`, `.${cents}`] : [`.${String(cents).padStart(2, "0")}`];
  return [String(whole), grouped(","), grouped(" "), grouped("\u00A0"), grouped("\u202F")].flatMap((w) => tails.map((t) => w + t)).flatMap((s) => [s, ` ${s} `]);
}

describe("parseAmountMinor", () => {
  it("reads back every amount formatMinor prints", () => {
    fc.assert(
      fc.property(amount, (n) => {
        expect(parseAmountMinor(formatMinor(n))).toEqual({ ok: true, value: n });
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads every usual spelling of an amount as that amount", () => {
    fc.assert(
      fc.property(amount, (n) => {
        for (const s of spellings(n)) expect(parseAmountMinor(s), JSON.stringify(s)).toEqual({ ok: true, value: n });
      }),
      { numRuns: 500 },
    );
  });

  it("whatever it accepts prints back to the same value", () => {
    const typed = fc.stringMatching(/^ ?-?[0-9]{0,4}([, \u00A0][0-9]{0,4}){0,3}(\.[0-9]{0,3})? ?$/);
    fc.assert(
      fc.property(fc.oneof(typed, fc.string()), (text) => {
        const parsed = parseAmountMinor(text);
        if (!parsed.ok) {
          expect(parsed.error).toMatch(/^[A-Z][^\n]*$/);
          return;
        }
        expect(Number.isSafeInteger(parsed.value) && parsed.value >= 0 && parsed.value <= MAX_AMOUNT_MINOR).toBe(true);
        expect(parseAmountMinor(formatMinor(parsed.value))).toEqual(parsed);
        // And it is what the digits say: the same number with the separators taken out.
        const digits = text.trim().replace(/[, \u00A0\u202F]/g, "");
        const [whole, cents = ""] = digits.split(".");
        expect(parsed.value).toBe(Number(whole) * 100 + Number(cents.padEnd(2, "0")));
      }),
      { numRuns: 3_000 },
    );
  });

  it("refuses letters, misplaced separators and anything else that is not an amount", () => {
    const withLetter = fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom(..."abcxyzEeLKR$€"), fc.string({ maxLength: 6 })).map(([a, l, b]) => a + l + b);
    fc.assert(
      fc.property(withLetter, (text) => {
        expect(parseAmountMinor(text).ok).toBe(false);
      }),
    );
    for (const text of ["12,50", "1,2345", "1,23,456", "12 500,000", "12,500 000", ",500", "500,", "1.2.3", "12.", ".5", "1e3", "0x10", "Infinity", "NaN", "+5", "--5", "12 50", "1 2"]) {
      expect(parseAmountMinor(text), JSON.stringify(text)).toEqual({ ok: false, error: AMOUNT_EXAMPLE });
    }
  });

  it("says why: empty, more than 2 decimals, negative, above the limit", () => {
    expect(parseAmountMinor("")).toEqual({ ok: false, error: "Enter an amount" });
    expect(parseAmountMinor("  ", { whenEmpty: 0 })).toEqual({ ok: true, value: 0 });
    expect(parseAmountMinor("12,500.505")).toEqual({ ok: false, error: "Use at most 2 decimals, like 12,500.50" });
    expect(parseAmountMinor("-5")).toEqual({ ok: false, error: "Enter an amount of 0 or more" });
    expect(parseAmountMinor("-0")).toEqual({ ok: false, error: "Enter an amount of 0 or more" });
    expect(parseAmountMinor(formatMinor(MAX_AMOUNT_MINOR + 100))).toEqual({ ok: false, error: `Enter at most ${formatMinor(MAX_AMOUNT_MINOR)}` });
    expect(parseAmountMinor("9".repeat(400))).toEqual({ ok: false, error: `Enter at most ${formatMinor(MAX_AMOUNT_MINOR)}` });
    expect(parseAmountMinor("10,000,000.01", { maxMinor: MAX_UNIT_PRICE_MINOR })).toEqual({ ok: false, error: "Enter at most 10,000,000.00" });
  });

  it("reads the issue's amounts exactly", () => {
    expect(parseAmountMinor("12,500")).toEqual({ ok: true, value: 1_250_000 });
    expect(parseAmountMinor("12 500")).toEqual({ ok: true, value: 1_250_000 });
    expect(parseAmountMinor("12\u00A0500")).toEqual({ ok: true, value: 1_250_000 });
    expect(parseAmountMinor("12500.50")).toEqual({ ok: true, value: 1_250_050 });
    expect(parseAmountMinor("12,500.5")).toEqual({ ok: true, value: 1_250_050 });
    expect(parseAmountMinor(" 5,000 ")).toEqual({ ok: true, value: 500_000 });
  });
});

describe("parseQuantity", () => {
  it("reads back every quantity in range, grouped or not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_LINE_QUANTITY }), (q) => {
        for (const s of [String(q), q.toLocaleString("en-US"), ` ${q} `]) expect(parseQuantity(s)).toEqual({ ok: true, value: q });
        expect(parseQuantity(`-${q}`, { signed: true })).toEqual({ ok: true, value: -q });
      }),
      { numRuns: 1_000 },
    );
  });

  it("whatever it accepts is a whole number in range that prints back to the same value", () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^-?[0-9]{0,5}(,[0-9]{0,3})?(\.[0-9])?$/), fc.string()), (text) => {
        const parsed = parseQuantity(text);
        if (!parsed.ok) return;
        expect(Number.isSafeInteger(parsed.value) && parsed.value >= 1 && parsed.value <= MAX_LINE_QUANTITY).toBe(true);
        expect(parseQuantity(parsed.value.toLocaleString("en-US"))).toEqual(parsed);
      }),
      { numRuns: 2_000 },
    );
  });

  it("refuses 0, negatives, fractions, letters, misplaced separators and more than the limit", () => {
    for (const text of ["0", "-2", "2.5", "2.0", "abc", "2x", "1,00", "", "1.2.3", String(MAX_LINE_QUANTITY + 1)]) {
      expect(parseQuantity(text).ok, JSON.stringify(text)).toBe(false);
    }
    expect(parseQuantity("0", { signed: true })).toEqual({ ok: false, error: "Enter a quantity other than 0" });
    expect(parseQuantity("abc")).toEqual({ ok: false, error: "Enter a whole number like 2" });
  });
});

describe("parsePercentBp", () => {
  it("reads a percent as basis points, 0 to 100 with at most 2 decimals", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (bp) => {
        const text = `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, "0")}`;
        expect(parsePercentBp(text)).toEqual({ ok: true, value: bp });
      }),
    );
    expect(parsePercentBp("15")).toEqual({ ok: true, value: 1_500 });
    expect(parsePercentBp("7.5")).toEqual({ ok: true, value: 750 });
    expect(parsePercentBp("", { whenEmpty: 0 })).toEqual({ ok: true, value: 0 });
    for (const text of ["100.01", "-1", "15%", "abc", "1.234"]) expect(parsePercentBp(text).ok, text).toBe(false);
    expect(parsePercentBp("150")).toEqual({ ok: false, error: "Enter a rate between 0 and 100%" });
  });
});
