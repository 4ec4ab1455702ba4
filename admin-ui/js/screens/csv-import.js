// CSV import: choose a file and target, preview a dry run (changes, unknown SKUs, row errors),
// then apply it and watch the import run.

import { html, useState, useCallback } from '../lib.js';
import { gqlUpload, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useConnections } from '../data.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Empty } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { SelectField } from '../components/fields.js';
import { RunSummary } from '../components/progress.js';
import { toast, toastError } from '../components/toast.js';
import { useLiveRun, canWatchRuns } from '../live-run.js';
import { runEndMessage } from '../sync-actions.js';
import { formatInt, formatMoney, formatJsonValue, isDecimal, humanize } from '../format.js';

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
        <div class="table-wrap">
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
        <div class="table-wrap">
          <table class="table" data-testid="csv-changes">
            <thead><tr><th scope="col">Code</th><th scope="col">Field</th><th scope="col" class="num">Old</th><th scope="col" class="num">New</th></tr></thead>
            <tbody>${preview.slice(0, MAX_PREVIEW).map((p, i) => html`
              <tr key=${i}><td>${p.code}</td><td>${humanize(p.field)}</td>
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
  const [target, setTarget] = useState(targets[0]);
  const [connectionId, setConnectionId] = useState('');
  const [mapping, setMapping] = useState('');
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [preview, setPreview] = useState(null); // { key, result }
  const [applied, setApplied] = useState(null);
  const signature = file ? `${file.name}|${file.size}|${file.lastModified}|${target}|${connectionId}|${mapping}` : null;
  const onDone = useCallback((run) => runEndMessage(run), []);
  const live = useLiveRun(caps, applied?.runId && canWatchRuns(caps) ? applied.runId : null, null, onDone);

  const send = async (dryRun) => {
    setError(null);
    if (!file) { setError('Choose a CSV file first.'); return; }
    let mappingValue = null;
    if (mapping.trim()) {
      try { mappingValue = JSON.parse(mapping); } catch { setError('The column mapping is not valid JSON.'); return; }
    }
    const { query } = uploadMutation(caps, dryRun);
    setBusy(dryRun ? 'preview' : 'apply');
    try {
      const d = await gqlUpload(query, { target, connectionId: connectionId || null, dryRun, mapping: mappingValue }, { file });
      const result = d.uploadCsv;
      if (dryRun) {
        setPreview({ key: signature, result });
        setApplied(null);
      } else {
        setApplied(result);
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

  const previewCurrent = preview && preview.key === signature;
  const needsConnection = target === 'ITEM_COSTS' && caps.arg('mutation', 'uploadCsv', 'connectionId');
  return html`
    <form class="card form" onSubmit=${(e) => { e.preventDefault(); send(true); }} data-testid="csv-form" aria-label="CSV import">
      <label class="field">
        <span>CSV file</span>
        <input type="file" accept=".csv,text/csv" data-testid="csv-file"
          onChange=${(e) => { setFile(e.currentTarget.files[0] || null); setApplied(null); }} />
        <small class="hint">UTF-8 with a header row. Money may include $ and thousands separators.</small>
      </label>
      <${SelectField} label="Import into" value=${target} onChange=${(v) => { setTarget(v); setApplied(null); }} testid="csv-target"
        options=${targets.map((t) => ({ value: t, label: TARGET_LABELS[t] || humanize(t) }))} />
      ${caps.arg('mutation', 'uploadCsv', 'connectionId') ? html`
        <${SelectField} label=${needsConnection ? 'Push to connection' : 'Connection (optional)'} value=${connectionId} onChange=${setConnectionId} testid="csv-connection"
          options=${[{ value: '', label: needsConnection ? 'All linked connections' : 'None' }, ...connections.map((c) => ({ value: c.id, label: c.name }))]} />` : null}
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
        <button type="submit" class="btn" disabled=${!!busy || !file}>${busy === 'preview' ? 'Checking…' : 'Preview (dry run)'}</button>
        <button type="button" class="btn btn-primary" disabled=${!!busy || !previewCurrent} onClick=${() => send(false)}
          title=${previewCurrent ? '' : 'Preview the file first'}>${busy === 'apply' ? 'Importing…' : 'Apply import'}</button>
      </div>
      ${!previewCurrent && file ? html`<p class="hint">Preview the file to see what would change before applying it.</p>` : null}
    </form>
    ${applied ? html`
      ${applied.runId ? html`<div class="card"><h2>Import run</h2>
        ${live.run ? html`<${RunSummary} run=${live.run} live=${live.live} />` : html`<p><a href=${href(`/runs/${applied.runId}`)}>Run #${applied.runId}</a></p>`}</div>` : null}
      <${Result} result=${applied} applied />` : null}
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
