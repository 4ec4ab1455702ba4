// Entry point: session, capabilities, routing to screens.

import { html, render, useState, useEffect } from './lib.js';
import { AppContext } from './context.js';
import { getSession, isExpired, clearSession, onSessionChange, currentToken, EXPIRED_MESSAGE } from './session.js';
import { loadCapabilities } from './capabilities.js';
import { useRoute } from './router.js';
import { Toaster } from './components/toast.js';
import { Layout } from './components/layout.js';
import { Loading, ErrorBox } from './components/feedback.js';
import { invalidateConnections } from './data.js';
import { SignIn } from './screens/signin.js';
import { Dashboard } from './screens/dashboard.js';
import { Runs } from './screens/runs.js';
import { RunPage } from './screens/run.js';
import { Conflicts } from './screens/conflicts.js';
import { ConflictPage } from './screens/conflict.js';
import { Items } from './screens/items.js';
import { ItemPage } from './screens/item.js';
import { CsvImport } from './screens/csv-import.js';
import { Connections } from './screens/connections.js';
import { ConnectionPage } from './screens/connection.js';
import { Users } from './screens/users.js';
import { Recoveries } from './screens/recoveries.js';
import { NotFound } from './screens/not-found.js';

function initialSession() {
  const s = getSession();
  if (s && isExpired(s)) {
    clearSession(EXPIRED_MESSAGE);
    return { session: null, message: EXPIRED_MESSAGE };
  }
  return { session: s, message: null };
}

function screenFor(route) {
  const [section, id] = route.parts;
  const key = route.path;
  switch (section) {
    case undefined: return html`<${Dashboard} key=${key} />`;
    case 'runs': return id ? html`<${RunPage} key=${key} id=${id} />` : html`<${Runs} route=${route} />`;
    case 'conflicts': return id ? html`<${ConflictPage} key=${key} id=${id} />` : html`<${Conflicts} route=${route} />`;
    case 'items': return id ? html`<${ItemPage} key=${key} id=${id} />` : html`<${Items} route=${route} />`;
    case 'import': return html`<${CsvImport} route=${route} />`;
    case 'connections': return id ? html`<${ConnectionPage} key=${key} id=${id} />` : html`<${Connections} />`;
    case 'users': return html`<${Users} />`;
    case 'recoveries': return html`<${Recoveries} route=${route} />`;
    default: return html`<${NotFound} />`;
  }
}

function App() {
  const [{ session, message }, setState] = useState(initialSession);
  const [caps, setCaps] = useState(null);
  const [capsError, setCapsError] = useState(null);
  const route = useRoute();

  useEffect(() => onSessionChange((s, msg) => {
    setState({ session: s, message: s ? null : msg });
    setCaps(null);
    setCapsError(null);
    invalidateConnections();
  }), []);

  // Notice an expiry while the tab sits idle, not only on the next request.
  useEffect(() => {
    const check = () => { if (getSession()) currentToken(); };
    const timer = setInterval(check, 15000);
    document.addEventListener('visibilitychange', check);
    return () => { clearInterval(timer); document.removeEventListener('visibilitychange', check); };
  }, []);

  const loadCaps = () => {
    setCapsError(null);
    loadCapabilities().then(setCaps, setCapsError);
  };
  useEffect(() => { if (session && !caps) loadCaps(); }, [session]); // eslint-disable-line react-hooks/exhaustive-deps

  let body;
  if (!session) {
    body = html`<${SignIn} message=${message} />`;
  } else if (!caps) {
    body = html`<main id="main" class="boot">
      ${capsError ? html`<${ErrorBox} error=${capsError} onRetry=${loadCaps} title="Could not reach the API" />` : html`<${Loading} label="Connecting…" />`}
    </main>`;
  } else {
    body = html`
      <${AppContext.Provider} value=${{ user: session.user, caps }}>
        <${Layout} user=${session.user} caps=${caps} route=${route} onSignOut=${() => clearSession()}>
          ${screenFor(route)}
        <//>
      <//>`;
  }
  return html`${body}<${Toaster} />`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
