import { defineConfig } from "vite";
import { devProxy, precompress } from "./vite.shared";

const OUT_DIR = "../api/static/console";

// The bundle is served by the API at /console (api/console.py) from api/static/console/.
export default defineConfig({
  base: "/console/",
  plugins: [precompress()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: "es2020",
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 700,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: { proxy: devProxy },
});
