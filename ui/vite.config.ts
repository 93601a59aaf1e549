/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// No dev server is used by the app (tauri.conf.json has no devUrl): `npm run build`
// writes ui/dist, which the Rust build embeds.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
