import { defineConfig } from "vite";
import { devProxy, precompress } from "./vite.shared";

// GraphiQL, served by the API at GET /graphql (to browsers) and /graphiql/assets/ from
// api/static/graphiql/ (api/graphiql.py). A second build beside the console's: it shares
// console/node_modules, not a single chunk with it.
export default defineConfig({
  base: "/graphiql/",
  plugins: [precompress()],
  build: {
    outDir: "../api/static/graphiql",
    emptyOutDir: true,
    target: "es2020",
    assetsInlineLimit: 0,
    // Monaco (GraphiQL's editor) is one large chunk by design
    chunkSizeWarningLimit: 6000,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rollupOptions: {
      input: "graphiql.html",
      onwarn(warning, warn) {
        // React libraries mark modules "use client" for server components; meaningless here
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  // Monaco's workers import code of their own: module workers, split like the page
  worker: { format: "es" },
  server: { proxy: devProxy },
});
