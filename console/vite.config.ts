import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const OUT_DIR = "../api/static/console";

/** `<asset>.gz` beside each script and stylesheet; api/console.py sends it to gzip clients. */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "creditlink-precompress",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const assets = path.join(outDir, "assets");
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const file = path.join(assets, name);
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
      }
    },
  };
}

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
  server: {
    // `npm run dev` proxies the API of a running `make run`
    proxy: { "/graphql": "http://127.0.0.1:8000" },
  },
});
