// Entry point: session, capabilities, routing to screens (see routes.js).
//
// When the session expires, the screen stays as it is (unsaved input included) under a
// sign-in dialog; signing in again as the same user carries on where it stopped.

import { html, render, useState, useEffect } from './lib.js';
import { AppContext } from './context.js';
import {
  getSession, isExpired, clearSession, onSessionChange, currentToken, EXPIRED_MESSAGE,
} from './session.js';
import { loadCapabilities } from './capabilities.js';
import { useRoute } from './router.js';
import { screenFor } from './routes.js';
import { Toaster, toast } from './components/toast.js';
import { Layout } from './components/layout.js';
import { Loading, ErrorBox } from './components/feedback.js';
import { invalidateConnections } from './data.js';
import { SignIn } from './screens/signin.js';

function initialAuth() {
  const s = getSession();
  if (s && isExpired(s)) {
    clearSession(EXPIRED_MESSAGE);
    return { session: null, message: EXPIRED_MESSAGE, expiredUser: null };
  }
  return { session: s, message: null, expiredUser: null };
}

const sameUser = (a, b) => !!a && !!b && String(a.id) === String(b.id) && a.email === b.email;

const screens = new Map(); // loader -> component, once its module has loaded

/** The screen for a route, loading its module on first use. */
function Screen({ target }) {
  const [, setLoaded] = useState(0);
  const [error, setError] = useState(null);
  const Component = screens.get(target.load);
  const load = () => {
    setError(null);
    target.load().then((c) => { screens.set(target.load, c); setLoaded((n) => n + 1); }, setError);
  };
  useEffect(() => { if (!Component) load(); }, [target.load]); // eslint-disable-line react-hooks/exhaustive-deps
  if (error) return html`<${ErrorBox} error=${error} onRetry=${load} title="Could not load this screen" />`;
  if (!Component) return html`<${Loading} />`;
  return html`<${Component} key=${target.key} ...${target.props} />`;
}

function App() {
  const [auth, setAuth] = useState(initialAuth);
  const [caps, setCaps] = useState(null);
  const [capsError, setCapsError] = useState(null);
  const route = useRoute();

  useEffect(() => onSessionChange((s, msg) => {
    setAuth((prev) => {
      if (s) {
        const resumed = sameUser(prev.expiredUser, s.user);
        if (resumed) toast('Signed in again. Anything you had not saved is still here.', { kind: 'info' });
        else { setCaps(null); setCapsError(null); invalidateConnections(); }
        return { session: s, message: null, expiredUser: null };
      }
      // Expired while working: keep the screen under the sign-in dialog.
      const user = prev.session?.user || prev.expiredUser;
      if (msg === EXPIRED_MESSAGE && user) return { session: null, message: msg, expiredUser: user };
      setCaps(null);
      setCapsError(null);
      invalidateConnections();
      return { session: null, message: msg, expiredUser: null };
    });
  }), []);

  // Notice an expiry while the tab sits idle, not only on the next request.
  useEffect(() => {
    // Only while the tab is visible: a tab being closed or reloaded turns hidden, and ending
    // the session there would leave the next page without the "expired" explanation.
    const check = () => { if (document.visibilityState === 'visible' && getSession()) currentToken(); };
    const timer = setInterval(check, 15000);
    document.addEventListener('visibilitychange', check);
    return () => { clearInterval(timer); document.removeEventListener('visibilitychange', check); };
  }, []);

  const { session, message, expiredUser } = auth;
  const loadCaps = () => {
    setCapsError(null);
    loadCapabilities().then(setCaps, setCapsError);
  };
  useEffect(() => { if (session && !caps) loadCaps(); }, [session]); // eslint-disable-line react-hooks/exhaustive-deps

  const user = session?.user || expiredUser;
  let body;
  if (user && caps) {
    body = html`
      <${AppContext.Provider} value=${{ user, caps }}>
        <${Layout} user=${user} caps=${caps} route=${route} onSignOut=${() => clearSession()}>
          <${Screen} target=${screenFor(route)} />
        <//>
      <//>
      ${!session ? html`<${SignIn} message=${message} modal email=${expiredUser.email} />` : null}`;
  } else if (!session) {
    body = html`<${SignIn} message=${message} />`;
  } else {
    body = html`<main id="main" class="boot">
      ${capsError ? html`<${ErrorBox} error=${capsError} onRetry=${loadCaps} title="Could not reach the API" />` : html`<${Loading} label="Connecting…" />`}
    </main>`;
  }
  return html`${body}<${Toaster} />`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
