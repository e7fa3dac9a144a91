/** Limits of the domain: sizes of entities and amounts. */
/** Smart Select: the most media items one project may select. */
export const MAX_MEDIA_ITEMS = 50_000;

/**
 * Money is integer minor units. Bounds keep every line sum a safe integer: 500 lines × 10,000 units
 * × 1e9 minor units = 5e15 < Number.MAX_SAFE_INTEGER (9.007e15). Tax can double a subtotal, so an
 * invoice's total is checked against MAX_AMOUNT_MINOR as a whole (schema/entities/invoice.ts).
 */
export const MAX_UNIT_PRICE_MINOR = 1_000_000_000;
export const MAX_LINE_QUANTITY = 10_000;
export const MAX_LINES = 500;
export const MAX_AMOUNT_MINOR = 5_000_000_000_000_000;
