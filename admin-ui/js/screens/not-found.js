import { html } from '../lib.js';
import { PageHeader } from '../components/layout.js';

export function NotFound() {
  return html`<section><${PageHeader} title="Page not found" /><p>There is nothing at this address. <a href="#/">Go to the dashboard</a>.</p></section>`;
}

/** For a screen whose API the server does not offer (yet). */
export function Unavailable({ title, what }) {
  return html`<section><${PageHeader} title=${title} />
    <div class="state state-empty"><strong>Not available on this server</strong><div>This server does not offer ${what} yet.</div></div></section>`;
}
