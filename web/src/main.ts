// The app shell: header with navigation, the live indicator and the sign-in state, and a hash router
// (#/events, #/event/<id>, #/shop, #/product/<id>, #/cart, #/signin). No framework: a few pages of DOM
// built with dom.ts's h() are smaller than any framework's runtime.
import { execute, session } from './api.ts';
import { announce, h } from './dom.ts';
import { type Connection, Live } from './live.ts';
import { cartPage, eventsPage, productPage, productsPage, signInPage } from './pages.ts';
import { seatMapPage } from './seat-map.ts';
import { SignOutDocument } from '../../src/generated/client/graphql.ts';

const live = new Live();
const main = document.getElementById('main')!;
const liveIndicator = document.getElementById('live')!;
const account = document.getElementById('account')!;
let stopPage: () => void = () => {};

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'connecting…',
  connected: 'live',
  reconnecting: 'reconnecting…',
  offline: 'offline',
};
live.onState((state) => {
  liveIndicator.textContent = CONNECTION_TEXT[state];
  liveIndicator.dataset.state = state;
});

function renderAccount(): void {
  if (session.token() === null) {
    account.replaceChildren(h('a', { href: '#/signin', id: 'signin-link' }, 'Sign in'));
    return;
  }
  const out = h('button', { type: 'button', id: 'signout' }, 'Sign out');
  out.addEventListener('click', () => {
    execute(SignOutDocument, {})
      .catch(() => undefined) // an expired session is signed out already
      .finally(() => {
        session.set(null);
        announce('Signed out.');
        live.restart();
        renderAccount();
        void route();
      });
  });
  account.replaceChildren(out);
}

const PAGES: Record<string, (root: HTMLElement, id: string) => Promise<() => void>> = {
  events: (root) => eventsPage(root),
  event: (root, id) => seatMapPage(root, live, id),
  shop: (root) => productsPage(root),
  product: (root, id) => productPage(root, live, id),
  cart: (root) => cartPage(root),
  signin: (root) =>
    signInPage(root, () => {
      live.restart();
      renderAccount();
      location.hash = '#/events';
    }),
};

let routed = 0;

/** Shows the page the hash names; a page that finishes loading after the hash moved on is dropped. */
async function route(): Promise<void> {
  const current = ++routed;
  stopPage();
  stopPage = () => {};
  const [, page = 'events', id = ''] = location.hash.split('/');
  const view = h('div');
  let stop: () => void = () => {};
  try {
    stop = await (PAGES[page] ?? PAGES.events!)(view, decodeURIComponent(id));
  } catch (error) {
    view.append(h('p', { role: 'alert', className: 'error' }, error instanceof Error ? error.message : String(error)));
  }
  if (current !== routed) {
    stop();
    return;
  }
  stopPage = stop;
  main.replaceChildren(view);
  main.focus();
}

window.addEventListener('hashchange', () => void route());
renderAccount();
live.connect();
void route();
