/**
 * Bytes as text: hex, base64 and base64url, and SHA-256. The only place these are spelled: WebCrypto,
 * btoa and atob, so the same code runs in Node 20, workerd and the browser. No imports.
 */

/** Bytes → lowercase hex. */
export function hex(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += HEX[view[i]!];
  return out;
}
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** SHA-256 of bytes (or of a string's UTF-8), as lowercase hex. */
export async function sha256Hex(data: Uint8Array | ArrayBuffer | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** Bytes → padded base64. */
export function base64FromBytes(bytes: Uint8Array): string {
  let binary = "";
  // String.fromCharCode with a spread is limited by the argument count; go in slices.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Base64 → bytes, or null when it is not base64. */
export function bytesFromBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Bytes → unpadded base64url. */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64FromBytes(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Unpadded base64url → bytes, or null for anything else. Strict on purpose: atob alone would accept
 * whitespace, `+`, `/` and padding, and the unused low bits of the last character would let one
 * signature be spelled several ways and still verify. Only the canonical spelling is accepted.
 */
export function base64UrlDecode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = bytesFromBase64(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return bytes !== null && base64UrlEncode(bytes) === text ? bytes : null;
}
