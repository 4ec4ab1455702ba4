// The frame around every signed-in screen: header, navigation, user, sign out; and, after
// each navigation, focus on the new page's heading plus an announcement of it.

import { html, useState, useEffect, useRef } from '../lib.js';
import { navItems } from '../nav.js';
import { humanize } from '../format.js';
import { parseLocation } from '../router.js';

// Set by a route change, taken by the next page heading that renders; cleared as soon as
// the user does something, so a late title change never steals focus.
let focusPending = false;
let announcer = null;
const settle = () => { focusPending = false; };
let lastPath = parseLocation().path;
window.addEventListener('hashchange', () => {
  const path = parseLocation().path;
  if (path !== lastPath) focusPending = true;
  lastPath = path;
});

export function Layout({ user, caps, route, onSignOut, children }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => setMenuOpen(false), [route.path]);
  useEffect(() => {
    announcer = setAnnouncement;
    document.addEventListener('pointerdown', settle, true);
    document.addEventListener('keydown', settle, true);
    return () => {
      announcer = null;
      document.removeEventListener('pointerdown', settle, true);
      document.removeEventListener('keydown', settle, true);
    };
  }, []);
  const items = navItems(caps, user);
  const section = `/${route.parts[0] || ''}`;
  return html`
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header class="topbar">
      <a class="brand" href="#/"><span class="brand-mark" aria-hidden="true">◆</span> pricebook-sync</a>
      <button type="button" class="btn menu-toggle" aria-expanded=${menuOpen} aria-controls="main-nav"
        onClick=${() => setMenuOpen(!menuOpen)}>Menu</button>
      <nav id="main-nav" class=${`mainnav ${menuOpen ? 'open' : ''}`} aria-label="Main">
        <ul>
          ${items.map((i) => html`
            <li key=${i.path}>
              <a href=${`#${i.path}`} aria-current=${section === i.path ? 'page' : undefined}>${i.label}</a>
            </li>`)}
        </ul>
        <div class="userbox">
          <span class="user-email" title=${user.email}>${user.email}</span>
          <span class="badge badge-muted" data-testid="role">${humanize(user.role)}</span>
          <button type="button" class="btn btn-small" onClick=${onSignOut}>Sign out</button>
        </div>
      </nav>
    </header>
    <main id="main" tabindex="-1">${children}</main>
    <p class="sr-only" aria-live="polite" aria-atomic="true" data-testid="route-announcer">${announcement}</p>`;
}

/** Page title row with optional actions on the right. */
export function PageHeader({ title, subtitle, children }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} · pricebook-sync`;
    if (focusPending && heading.current) {
      heading.current.focus();
      announcer?.(`${title}, page loaded`);
    }
  }, [title]);
  return html`
    <div class="page-header">
      <div>
        <h1 ref=${heading} tabindex="-1">${title}</h1>
        ${subtitle ? html`<p class="subtitle">${subtitle}</p>` : null}
      </div>
      ${children ? html`<div class="page-actions">${children}</div>` : null}
    </div>`;
}
