// A tiny element builder: text always goes in as text (no innerHTML with data from the API).

type Child = Node | string | number | null | undefined | false;
type Children = Child | Children[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Children[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (typeof value === "function") {
        el.addEventListener(name.replace(/^on/, "").toLowerCase(), value);
      } else if (name === "class") {
        el.className = String(value);
      } else if (name === "style") {
        el.style.cssText = String(value); // CSSOM, allowed by the page's CSP (unlike the attribute)
      } else if (value === true) {
        el.setAttribute(name, "");
      } else {
        el.setAttribute(name, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Children[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else if (child != null && child !== false) el.appendChild(document.createTextNode(String(child)));
  }
}

/** A Chinese label with its English term in small print. */
export function bi(zhText: string, enText: string): HTMLSpanElement {
  return h("span", { class: "bi" }, zhText, enText ? h("small", null, enText) : null);
}

export function clear(el: Element, ...children: Children[]): void {
  el.replaceChildren();
  append(el, children);
}

export function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

export function chip(text: string, cls: string, title?: string): HTMLSpanElement {
  return h("span", { class: `chip ${cls}`, title: title ?? null }, text);
}
