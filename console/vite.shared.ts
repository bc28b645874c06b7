import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** `<asset>.gz` beside each script and stylesheet; the API sends it to gzip clients. */
export function precompress(): Plugin {
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

/** `npm run dev` proxies the API of a running `make run`. */
export const devProxy = { "/graphql": "http://127.0.0.1:8000" };
