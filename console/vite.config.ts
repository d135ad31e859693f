// The production build: hashed assets under /console/assets, nothing inline (the CSP allows no inline
// script or style), the SDK compiled from its sources (../sdk/typescript/src) with this package's pinned
// openapi-fetch, so a fresh machine needs only `npm ci` here.
import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "./",
  resolve: {
    alias: { "openapi-fetch": here("./node_modules/openapi-fetch/dist/index.mjs") },
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0, // no data: URLs for scripts or styles; every asset is a file of this origin
    modulePreload: { polyfill: false }, // the polyfill is an inline script
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { port: 5173 },
});
