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

async function route(): Promise<void> {
  stopPage();
  stopPage = () => {};
  main.replaceChildren();
  const [, page = 'events', id = ''] = location.hash.split('/');
  try {
    switch (page) {
      case 'event':
        stopPage = await seatMapPage(main, live, decodeURIComponent(id));
        break;
      case 'shop':
        stopPage = await productsPage(main);
        break;
      case 'product':
        stopPage = await productPage(main, live, decodeURIComponent(id));
        break;
      case 'cart':
        stopPage = await cartPage(main);
        break;
      case 'signin':
        stopPage = await signInPage(main, () => {
          live.restart();
          renderAccount();
          location.hash = '#/events';
        });
        break;
      default:
        stopPage = await eventsPage(main);
    }
  } catch (error) {
    main.append(h('p', { role: 'alert', className: 'error' }, error instanceof Error ? error.message : String(error)));
  }
  main.focus();
}

window.addEventListener('hashchange', () => void route());
renderAccount();
live.connect();
void route();
