// GraphiQL for CreditLink, bundled and served by the API itself (api/graphiql.py at
// GET /graphql for browsers): no CDN, no font or worker from another host.
//
// The IDE posts to /graphql on this origin with the headers typed into its header editor.
// Nothing is read from the page's URL (no `?query=`, `?variables=`, `?headers=` prefill)
// and nothing runs until the user presses Run.

// Monaco's language workers, bundled by Vite (`?worker`) and served beside the page
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./page.css";
import { GraphiQL, type GraphiQLProps } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { TabOnlyStorage, browserLocalStorage } from "./storage";

type Fetcher = GraphiQLProps["fetcher"];

const ENDPOINT = "/graphql";

const DEFAULT_QUERY = `# CreditLink GraphQL API. Put your API key in the Headers tab:
#   {"Authorization": "Bearer <key>"}
# It stays in this browser tab: it is never saved.
# Run a query with Ctrl-Enter or the ▶ button.

{
  listTypes {
    id
    name
    kind
  }
}
`;

const fetcher: Fetcher = async (params, options) => {
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
      ...(options?.headers ?? {}),
    },
    body: JSON.stringify(params),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
};

const storage = new TabOnlyStorage(browserLocalStorage());
// for the end-to-end test: which keys GraphiQL has written (names only, values stay here)
Object.assign(window, { __graphiql: { memoryKeys: () => storage.memoryKeys() } });

function App() {
  return (
    <GraphiQL
      fetcher={fetcher}
      storage={storage}
      shouldPersistHeaders={false}
      showPersistHeadersSettings={false}
      isHeadersEditorEnabled
      defaultEditorToolsVisibility="headers"
      defaultQuery={DEFAULT_QUERY}
    >
      <GraphiQL.Logo>CreditLink · GraphiQL</GraphiQL.Logo>
    </GraphiQL>
  );
}

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
