// A tiny element builder: the app builds every node with it (never innerHTML), so text from the server is
// always text.
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | number | boolean | ((event: Event) => void) | undefined> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'className') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
  return element;
}

/** The page's one status line for assistive technology (aria-live) and for everyone else. */
export function announce(message: string, kind: 'info' | 'error' = 'info'): void {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = message;
  region.dataset.kind = kind;
}

export function money(amount: string | number, currency = 'MYR'): string {
  return `${currency} ${Number(amount).toFixed(2)}`;
}
