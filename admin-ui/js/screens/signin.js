// Sign in: email + password -> JWT kept in sessionStorage for this tab.

import { html, useState, useEffect, useRef } from '../lib.js';
import { gql, describeError } from '../api.js';
import { setSession } from '../session.js';

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt user { id email role } }
}`;

export function SignIn({ message }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const emailRef = useRef(null);
  useEffect(() => {
    document.title = 'Sign in · pricebook-sync';
    emailRef.current?.focus();
  }, []);

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

  return html`
    <main id="main" class="signin">
      <form class="card signin-card" onSubmit=${submit} aria-labelledby="signin-title">
        <div class="brand signin-brand"><span class="brand-mark" aria-hidden="true">◆</span> pricebook-sync</div>
        <h1 id="signin-title">Sign in</h1>
        ${message ? html`<p class="notice notice-warn" role="alert" data-testid="signin-message">${message}</p>` : null}
        <label class="field">
          <span>Email</span>
          <input ref=${emailRef} type="email" name="email" autocomplete="username" required
            value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Password</span>
          <input type="password" name="password" autocomplete="current-password" required
            value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
        </label>
        ${error ? html`<p class="inline-error" role="alert" data-testid="signin-error">${error}</p>` : null}
        <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>`;
}
