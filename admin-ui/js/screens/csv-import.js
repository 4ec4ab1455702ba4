// CSV import: choose a file and target, preview a dry run (changes, unknown SKUs, row errors),
// then apply it and watch the import run. Applying is idempotent from here: the button is
// off once applied, and applying a file this browser already applied asks first.

import { html, useState, useCallback, useEffect } from '../lib.js';
import { gqlUpload, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useConnections } from '../data.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Empty } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { SelectField } from '../components/fields.js';
import { ConfirmDialog } from '../components/dialog.js';
import { RunSummary } from '../components/progress.js';
import { toast, toastError } from '../components/toast.js';
import { useLiveRun, canWatchRuns } from '../live-run.js';
import { runEndMessage } from '../sync-actions.js';
import { formatInt, formatMoney, formatJsonValue, formatDateTime, isDecimal, humanize, fieldLabel } from '../format.js';

const RESULT_SPEC = [
  'runId', 'updated', 'unchanged', 'skusNotFound', ['errors', ['line', 'column', 'message']], 'warnings',
  ['preview', ['code', 'field', 'old', 'new']],
];
const TARGET_LABELS = {
  ITEM_COSTS: 'Item costs — update unit costs and push them upstream',
  VENDOR_PRICES: 'Vendor prices — local vendor price list, never pushed',
};
const MAX_PREVIEW = 200;

function uploadMutation(caps, dryRun) {
  const defs = ['$file: Upload!', `$target: ${caps.argType('mutation', 'uploadCsv', 'target') || 'CsvTarget'}!`];
  const args = ['file: $file', 'target: $target'];
  for (const [name, type] of [['connectionId', 'ID'], ['dryRun', 'Boolean!'], ['mapping', 'JSON']]) {
    if (caps.arg('mutation', 'uploadCsv', name)) { defs.push(`$${name}: ${type}`); args.push(`${name}: $${name}`); }
  }
  const sel = caps.select(caps.returns('mutation', 'uploadCsv'), RESULT_SPEC);
  return { query: `mutation(${defs.join(', ')}) { uploadCsv(${args.join(', ')}) { ${sel} } }`, dryRun };
}

const APPLIED_KEY = 'pricebook.csvApplied';
const APPLIED_KEEP = 50;

/** A fingerprint of the file's bytes (FNV-1a, 32 bit) and size: the same file, whatever its name. */
async function fingerprint(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i += 1) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${h.toString(16)}-${bytes.length}`;
}

function appliedImports() {
  try { return JSON.parse(localStorage.getItem(APPLIED_KEY) || '{}') || {}; } catch { return {}; }
}

function rememberApplied(key, runId) {
  const all = appliedImports();
  all[key] = { runId: runId ?? null, at: new Date().toISOString() };
  const newest = Object.entries(all).sort((a, b) => String(b[1].at).localeCompare(String(a[1].at))).slice(0, APPLIED_KEEP);
  try { localStorage.setItem(APPLIED_KEY, JSON.stringify(Object.fromEntries(newest))); } catch { /* storage off */ }
}

const count = (v) => (Array.isArray(v) ? v.length : typeof v === 'number' ? v : 0);
const showValue = (field, v) => (/cost|price/i.test(field) && isDecimal(v) ? formatMoney(v) : formatJsonValue(v));

function warningText(w) {
  if (typeof w === 'string') return w;
  if (w && typeof w === 'object') {
    const where = [w.line && `line ${w.line}`, w.column && `column ${w.column}`].filter(Boolean).join(', ');
    return `${where ? `${where}: ` : ''}${w.message || JSON.stringify(w)}`;
  }
  return String(w);
}

function Result({ result, applied }) {
  const errors = result.errors || [];
  const skus = Array.isArray(result.skusNotFound) ? result.skusNotFound : [];
  const warnings = Array.isArray(result.warnings) ? result.warnings : [];
  const preview = Array.isArray(result.preview) ? result.preview : [];
  return html`
    <div class="card" data-testid=${applied ? 'csv-applied' : 'csv-preview'}>
      <h2>${applied ? 'Import applied' : 'Dry run preview'}</h2>
      <dl class="stats">
        <div class="stat"><dt>${applied ? 'Updated' : 'Would update'}</dt><dd data-testid="csv-updated">${formatInt(result.updated)}</dd></div>
        ${result.unchanged !== undefined ? html`<div class="stat"><dt>Unchanged</dt><dd>${formatInt(result.unchanged)}</dd></div>` : null}
        <div class=${`stat ${count(result.skusNotFound) ? 'stat-warn' : ''}`}><dt>SKUs not found</dt><dd>${formatInt(count(result.skusNotFound))}</dd></div>
        <div class=${`stat ${errors.length ? 'stat-bad' : ''}`}><dt>Row errors</dt><dd data-testid="csv-error-count">${formatInt(errors.length)}</dd></div>
        ${warnings.length ? html`<div class="stat stat-warn"><dt>Warnings</dt><dd>${formatInt(warnings.length)}</dd></div>` : null}
      </dl>
      ${errors.length ? html`
        <h3>Rows with errors ${applied ? '(skipped)' : '(will be skipped)'}</h3>
        <div class="table-wrap" tabindex="0">
          <table class="table" data-testid="csv-errors">
            <thead><tr><th scope="col" class="num">Line</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
            <tbody>${errors.map((e, i) => html`<tr key=${i}><td class="num">${e.line ?? '—'}</td><td>${e.column || '—'}</td><td>${e.message}</td></tr>`)}</tbody>
          </table>
        </div>` : null}
      ${skus.length ? html`
        <h3>SKUs not found</h3>
        <p class="chips" data-testid="csv-skus">${skus.slice(0, 100).map((s) => html`<span key=${s} class="chip">${s}</span>`)}
          ${skus.length > 100 ? html`<span class="muted"> and ${formatInt(skus.length - 100)} more</span>` : null}</p>` : null}
      ${warnings.length ? html`<h3>Warnings</h3><ul class="warnings">${warnings.slice(0, 50).map((w, i) => html`<li key=${i}>${warningText(w)}</li>`)}</ul>` : null}
      ${!applied && preview.length ? html`
        <h3>Changes</h3>
        <div class="table-wrap" tabindex="0">
          <table class="table" data-testid="csv-changes">
            <thead><tr><th scope="col">Code</th><th scope="col">Field</th><th scope="col" class="num">Old</th><th scope="col" class="num">New</th></tr></thead>
            <tbody>${preview.slice(0, MAX_PREVIEW).map((p, i) => html`
              <tr key=${i}><td>${p.code}</td><td>${fieldLabel(p.field)}</td>
                <td class="num old">${showValue(p.field, p.old)}</td><td class="num new">${showValue(p.field, p.new)}</td></tr>`)}
            </tbody>
          </table>
        </div>
        ${preview.length > MAX_PREVIEW ? html`<p class="muted small">Showing the first ${MAX_PREVIEW} of ${formatInt(preview.length)} changes.</p>` : null}` : null}
      ${!applied && !preview.length && !errors.length && !result.updated ? html`<${Empty} title="Nothing would change">The file matches what is already stored.<//>` : null}
    </div>`;
}

function ImportForm() {
  const { caps } = useApp();
  const connections = useConnections();
  const targets = caps.enumValues(caps.argType('mutation', 'uploadCsv', 'target')) || Object.keys(TARGET_LABELS);
  const [file, setFile] = useState(null);
  const [fileKey, setFileKey] = useState(null);
  const [target, setTarget] = useState(targets[0]);
  const [connectionId, setConnectionId] = useState('');
  const [mapping, setMapping] = useState('');
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [preview, setPreview] = useState(null); // { key, result }
  const [applied, setApplied] = useState(null); // { key, result }
  const [again, setAgain] = useState(null); // an earlier application of this file, being confirmed
  const signature = file && fileKey ? `${fileKey}|${target}|${connectionId}|${mapping}` : null;
  const onDone = useCallback((run) => runEndMessage(run), []);
  const live = useLiveRun(caps, applied?.result.runId && canWatchRuns(caps) ? applied.result.runId : null, null, onDone);
  const hasConnectionArg = caps.arg('mutation', 'uploadCsv', 'connectionId');
  // The server picks the connection itself only when the account has exactly one.
  const mustChoose = hasConnectionArg && connections.length > 1;
  useEffect(() => {
    if (connections.length === 1 && !connectionId) setConnectionId(String(connections[0].id));
  }, [connections]); // eslint-disable-line react-hooks/exhaustive-deps

  const chooseFile = (f) => {
    setFile(f);
    setFileKey(null);
    setApplied(null);
    setPreview(null);
    if (f) fingerprint(f).then(setFileKey, () => setFileKey(`${f.name}-${f.size}-${f.lastModified}`));
  };

  const send = async (dryRun) => {
    setError(null);
    if (!file) { setError('Choose a CSV file first.'); return; }
    if (mustChoose && !connectionId) {
      setError(`Choose the connection to import into: this account has ${connections.length}.`);
      return;
    }
    let mappingValue = null;
    if (mapping.trim()) {
      try { mappingValue = JSON.parse(mapping); } catch { setError('The column mapping is not valid JSON.'); return; }
    }
    const { query } = uploadMutation(caps, dryRun);
    const key = signature;
    setBusy(dryRun ? 'preview' : 'apply');
    try {
      const d = await gqlUpload(query, { target, connectionId: connectionId || null, dryRun, mapping: mappingValue }, { file });
      const result = d.uploadCsv;
      if (dryRun) {
        setPreview({ key, result });
        setApplied(null);
      } else {
        rememberApplied(key, result.runId);
        setApplied({ key, result });
        toast(`Import ${result.runId ? `started (run #${result.runId})` : 'applied'}: ${formatInt(result.updated)} updated.`,
          result.runId ? { link: { href: href(`/runs/${result.runId}`), label: 'Open run' } } : {});
      }
    } catch (e) {
      setError(describeError(e));
      if (!dryRun) toastError(`Import failed: ${describeError(e)}`);
    } finally {
      setBusy(null);
    }
  };

  const apply = () => {
    const earlier = signature ? appliedImports()[signature] : null;
    if (earlier) setAgain(earlier);
    else send(false);
  };

  const previewCurrent = preview && preview.key === signature;
  const appliedCurrent = applied && applied.key === signature;
  const needsPush = target === 'ITEM_COSTS';
  const connectionLabel = mustChoose ? 'Connection (required)' : 'Connection';
  const connectionHint = mustChoose
    ? `This account has ${connections.length} connections: choose the one this file is for.${needsPush ? ' New costs are pushed to it.' : ''}`
    : connections.length === 1 ? 'The only connection of this account.' : 'Connect a system before importing.';
  return html`
    <form class="card form" onSubmit=${(e) => { e.preventDefault(); send(true); }} data-testid="csv-form" aria-label="CSV import" noValidate>
      <label class="field">
        <span>CSV file</span>
        <input type="file" accept=".csv,text/csv" data-testid="csv-file"
          onChange=${(e) => chooseFile(e.currentTarget.files[0] || null)} />
        <small class="hint">UTF-8 with a header row. Amounts use a point for decimals (12.34); a $ sign is fine.</small>
      </label>
      <${SelectField} label="Import into" value=${target} onChange=${(v) => setTarget(v)} testid="csv-target"
        options=${targets.map((t) => ({ value: t, label: TARGET_LABELS[t] || humanize(t) }))} />
      ${hasConnectionArg ? html`
        <${SelectField} label=${connectionLabel} required=${mustChoose} value=${connectionId} onChange=${setConnectionId} testid="csv-connection"
          hint=${connectionHint}
          options=${[...(connections.length === 1 ? [] : [{ value: '', label: mustChoose ? 'Choose a connection…' : 'None' }]),
            ...connections.map((c) => ({ value: String(c.id), label: c.name }))]} />` : null}
      ${caps.arg('mutation', 'uploadCsv', 'mapping') ? html`
        <details class="advanced">
          <summary>Column mapping</summary>
          <label class="field"><span>Mapping (JSON, optional)</span>
            <textarea rows="3" value=${mapping} placeholder='{"sku": "Part_Num", "cost": "Trade_Cost"}'
              onInput=${(e) => setMapping(e.currentTarget.value)}></textarea>
            <small class="hint">Which CSV header holds each field, when the defaults do not match your file.</small></label>
        </details>` : null}
      ${error ? html`<p class="inline-error" role="alert" data-testid="csv-error">${error}</p>` : null}
      <div class="form-actions">
        <button type="submit" class="btn" disabled=${!!busy || !file || !fileKey}>${busy === 'preview' ? 'Checking…' : 'Preview (dry run)'}</button>
        <button type="button" class="btn btn-primary" disabled=${!!busy || !previewCurrent || !!appliedCurrent} onClick=${apply}
          data-testid="csv-apply" title=${appliedCurrent ? 'Applied' : previewCurrent ? '' : 'Preview the file first'}>
          ${busy === 'apply' ? 'Importing…' : appliedCurrent ? 'Applied' : 'Apply import'}</button>
      </div>
      ${!previewCurrent && file ? html`<p class="hint">Preview the file to see what would change before applying it.</p>` : null}
      ${appliedCurrent ? html`<p class="hint" data-testid="csv-applied-note">Applied. To apply the same file again, preview it again first.</p>` : null}
    </form>
    <${ConfirmDialog} open=${!!again} title="Apply this file again?" confirmLabel="Apply again" danger
      onCancel=${() => setAgain(null)} onConfirm=${() => { setAgain(null); send(false); }}>
      <p data-testid="csv-again">This browser already applied the same file with the same settings
        ${again ? html` on ${formatDateTime(again.at)}${again.runId ? html` (<a href=${href(`/runs/${again.runId}`)}>run #${again.runId}</a>)` : null}` : null}.
        Applying it again runs a second import.</p>
    <//>
    ${applied ? html`
      ${applied.result.runId ? html`<div class="card"><h2>Import run</h2>
        ${live.run ? html`<${RunSummary} run=${live.run} live=${live.live} />` : html`<p><a href=${href(`/runs/${applied.result.runId}`)}>Run #${applied.result.runId}</a></p>`}</div>` : null}
      <${Result} result=${applied.result} applied />` : null}
    ${!applied && previewCurrent ? html`<${Result} result=${preview.result} />` : null}`;
}

export function CsvImport() {
  const { caps, canEdit } = useApp();
  if (!caps.mutation('uploadCsv')) return html`<${Unavailable} title="CSV import" what="CSV imports" />`;
  if (!canEdit) return html`<section><${PageHeader} title="CSV import" /><p>Only editors and admins import files.</p></section>`;
  return html`
    <section>
      <${PageHeader} title="CSV import" subtitle="Vendor price lists and unit-cost updates" />
      <${ImportForm} />
    </section>`;
}
