/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The built site is static: at run time it reads /config.json (API base URL, issuer,
// client id, redirect URI) from the origin that serves it, so one build serves every
// environment (local/console/server.py locally, Amplify on AWS).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
