// Labelled form controls.

import { html } from '../lib.js';
import { parseMoneyInput, formatMoney } from '../format.js';

let uid = 0;
export const newId = (prefix = 'f') => `${prefix}-${++uid}`;

export function SelectField({ label, value, options, onChange, name, required, disabled, hint, testid }) {
  return html`
    <label class="field">
      <span>${label}</span>
      <select name=${name} value=${value ?? ''} required=${required} disabled=${disabled} data-testid=${testid}
        onChange=${(e) => onChange(e.currentTarget.value)}>
        ${options.map((o) => html`<option key=${o.value} value=${o.value}>${o.label}</option>`)}
      </select>
      ${hint ? html`<small class="hint">${hint}</small>` : null}
    </label>`;
}

export function TextField({ label, value, onInput, type = 'text', name, required, placeholder, hint, autocomplete, inputmode, disabled, error, testid }) {
  return html`
    <label class="field">
      <span>${label}${required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</span>
      <input type=${type} name=${name} value=${value ?? ''} required=${required} placeholder=${placeholder}
        autocomplete=${autocomplete} inputmode=${inputmode} disabled=${disabled} aria-invalid=${error ? 'true' : undefined}
        data-testid=${testid} onInput=${(e) => onInput(e.currentTarget.value)} />
      ${hint ? html`<small class="hint">${hint}</small>` : null}
      ${error ? html`<small class="inline-error" role="alert">${error}</small>` : null}
    </label>`;
}

export function CheckboxField({ label, checked, onChange, name, disabled, hint, testid }) {
  return html`
    <label class="field field-check">
      <input type="checkbox" name=${name} checked=${!!checked} disabled=${disabled} data-testid=${testid}
        onChange=${(e) => onChange(e.currentTarget.checked)} />
      <span>${label}${hint ? html`<small class="hint">${hint}</small>` : null}</span>
    </label>`;
}

/** Options for an enum filter: "All" plus the values, labelled for people. */
export function enumOptions(values, allLabel = 'All', labeler = (v) => v) {
  return [{ value: '', label: allLabel }, ...values.map((v) => ({ value: v, label: labeler(v) }))];
}

/**
 * A money input under the UI's one money rule (see parseMoneyInput): an ambiguous or
 * over-precise amount is an inline error as it is typed, and a valid one shows the amount
 * it will be saved as. `error` adds a message from elsewhere (e.g. the server).
 */
export function MoneyField({ label, value, onInput, error, name, testid, inputRef, className = '', hint }) {
  const id = testid || name || label;
  const parsed = parseMoneyInput(value);
  const message = parsed.error || error;
  const preview = !message && parsed.value !== '' ? `Saves as ${formatMoney(parsed.value)}` : null;
  const describedBy = [message ? `${id}-error` : null, preview ? `${id}-preview` : null, hint ? `${id}-hint` : null]
    .filter(Boolean).join(' ') || undefined;
  return html`
    <label class=${`field field-money ${className}`}>
      <span>${label}</span>
      <input ref=${inputRef} name=${name} value=${value ?? ''} inputmode="decimal" autocomplete="off" spellcheck="false"
        aria-invalid=${message ? 'true' : undefined} aria-describedby=${describedBy} data-testid=${testid}
        onInput=${(e) => onInput(e.currentTarget.value)} />
      ${hint ? html`<small class="hint" id=${`${id}-hint`}>${hint}</small>` : null}
      ${message ? html`<small class="inline-error" id=${`${id}-error`} data-testid=${testid ? `${testid}-error` : undefined}>${message}</small>` : null}
      ${preview ? html`<small class="money-preview" id=${`${id}-preview`} data-testid=${testid ? `${testid}-preview` : undefined}>${preview}</small>` : null}
    </label>`;
}
