// Lint rules: typescript-eslint's recommended set, plus the determinism rule that keeps the
// wall clock and Math.random out of the simulation (they are allowed only at the edges: the CLI
// and the playground's page, which times its runs).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const wallClock = [
  { object: "Math", property: "random", message: "Use a named RNG stream from sim/rng.ts." },
  {
    object: "Date",
    property: "now",
    message: "Simulated time only; the wall clock belongs to src/cli.",
  },
  {
    object: "performance",
    property: "now",
    message: "Simulated time only; the wall clock belongs to src/cli.",
  },
];

export default tseslint.config(
  { ignores: ["node_modules/", "coverage/", "out/", "site/dist/", "**/*.js", "!eslint.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "no-restricted-properties": ["error", ...wallClock],
    },
  },
  {
    files: ["src/cli/**", "src/playground/main.ts", "test/**", "docs/floors/**"],
    rules: { "no-restricted-properties": "off" },
  },
);
