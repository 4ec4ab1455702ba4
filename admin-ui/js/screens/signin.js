// Sign in: email + password -> JWT kept in sessionStorage for this tab. As a page, or as a
// dialog over the screen whose session expired (so its unsaved input survives).

import { html, useState, useEffect, useRef } from '../lib.js';
import { gql, describeError } from '../api.js';
import { setSession, lastEmail } from '../session.js';

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt user { id email role } }
}`;

export function SignIn({ message, modal = false, email: knownEmail = null }) {
  const [email, setEmail] = useState(() => knownEmail || lastEmail() || '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const emailRef = useRef(null);
  const passwordRef = useRef(null);
  const dialogRef = useRef(null);
  useEffect(() => {
    if (!modal) document.title = 'Sign in · pricebook-sync';
    if (modal && dialogRef.current && !dialogRef.current.open) dialogRef.current.showModal();
    (email ? passwordRef : emailRef).current?.focus();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await gql(LOGIN, { email: email.trim(), password }, { auth: false });
      setSession(data.login);
    } catch (err) {
      setError(err.code === 'UNAUTHENTICATED' || err.code === 'BAD_USER_INPUT'
        ? 'The email or password is not right.'
        : describeError(err));
      setBusy(false);
    }
  };

  const form = html`
    <form class=${modal ? 'signin-form' : 'card signin-card'} onSubmit=${submit} aria-labelledby="signin-title">
      ${modal ? null : html`<div class="brand signin-brand"><span class="brand-mark" aria-hidden="true">◆</span> pricebook-sync</div>`}
      ${modal ? html`<h2 id="signin-title">Sign in again</h2>` : html`<h1 id="signin-title">Sign in</h1>`}
      ${message ? html`<p class="notice notice-warn" role="alert" data-testid="signin-message">${message}</p>` : null}
      ${modal ? html`<p class="hint">Your unsaved changes on this screen are kept.</p>` : null}
      <label class="field">
        <span>Email</span>
        <input ref=${emailRef} type="email" name="email" autocomplete="username" required
          value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Password</span>
        <input ref=${passwordRef} type="password" name="password" autocomplete="current-password" required
          value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
      </label>
      ${error ? html`<p class="inline-error" role="alert" data-testid="signin-error">${error}</p>` : null}
      <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>`;
  if (modal) {
    // Esc must not close it: the screen behind needs a session.
    return html`<dialog ref=${dialogRef} class="dialog signin-dialog" aria-labelledby="signin-title" data-testid="signin-dialog"
      onCancel=${(e) => e.preventDefault()}>${form}</dialog>`;
  }
  return html`<main id="main" class="signin">${form}</main>`;
}
