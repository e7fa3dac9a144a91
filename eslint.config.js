// @ts-check
/**
 * `npm run lint` = the type check, this, and the import picture (scripts/lint-imports.mjs).
 *
 * Type-aware rules that catch what the compiler lets through: a switch over a union that forgets a
 * case, a promise nobody waits for. And the floors of the house (README "Layout"): each floor
 * imports only from the floors below it, so the rules below are the architecture, checked.
 */
import tseslint from "typescript-eslint";

/** `no-restricted-imports` for a floor: the folders it must not import from, and why. */
const floor = (files, banned, why, extra = []) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      { patterns: [{ group: banned.map((dir) => `**/${dir}/**`), message: why }, ...extra] },
    ],
  },
});

export default tseslint.config(
  { ignores: ["**/dist/**", "node_modules/**", "bench/results/**", "**/*.js", "**/*.mjs", "**/*.cjs", "**/.wrangler/**"] },
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: ["./tsconfig.json", "./durable/tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false }],
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  floor(["lib/**"], ["domain", "protocol", "sqlite", "machines", "durable", "desktop"], "lib/ is the ground floor: it imports nothing of ours."),
  floor(["domain/**"], ["protocol", "sqlite", "machines", "durable", "desktop"], "domain/ imports only lib/."),
  floor(["protocol/**"], ["sqlite", "machines", "durable", "desktop"], "protocol/ imports only domain/ and lib/."),
  floor(["sqlite/**"], ["protocol", "machines", "durable", "desktop"], "sqlite/ is SQL text and the runner: it imports only lib/ and domain/."),
  floor(["machines/**"], ["sqlite", "durable", "desktop"], "machines/ is pure: no storage, no server, no desktop."),
  floor(["durable/**"], ["machines", "desktop"], "the server never imports the desktop."),
  floor(["desktop/**"], ["durable"], "the desktop never imports the server: they share only protocol/ and domain/."),
  floor(["dashboard/**"], ["durable", "desktop", "machines", "sqlite"], "the dashboard reads the branch through client/ only, with the pure parts of domain/ and protocol/."),
  floor(
    ["client/**"],
    ["sqlite", "durable", "desktop"],
    "client/ is the browser client: it runs in a web page, so it shares only protocol/, domain/, lib/ and pure machines/ code.",
    [{ group: ["node:*", "ws", "better-sqlite3", "partysocket", "partysocket/*"], message: "client/ uses the browser's globals only (WebSocket, fetch, crypto)." }],
  ),
  floor(
    ["desktop/renderer/**"],
    ["durable", "store", "sync", "electron", "cli", "sqlite"],
    "the renderer sees only desktop/app/api.ts and pure functions of domain/ (README: the renderer's API).",
    [{ group: ["zod", "**/index.js"], message: "zod (and the barrels that pull it in) stay out of the renderer bundle; import types with `import type`, values from zod-free modules.", allowTypeImports: true }],
  ),
);
