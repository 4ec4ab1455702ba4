// Display formatting. Money arrives as exact decimal strings and is formatted from the string
// itself (BigInt for the integer part), never through a float.

const LOCALE = navigator.language || 'en-US';
export const CURRENCY = 'USD';

const intFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const moneyParts = new Intl.NumberFormat(LOCALE, {
  style: 'currency', currency: CURRENCY, minimumFractionDigits: 0, maximumFractionDigits: 0,
});
const decimalSeparator = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1 })
  .formatToParts(1.5).find((p) => p.type === 'decimal')?.value || '.';
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' });

const DECIMAL = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/;

/** Splits a decimal string into sign, integer digits and fraction digits; null if not one. */
export function parseDecimal(text) {
  if (text === null || text === undefined) return null;
  const m = DECIMAL.exec(String(text));
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  return { negative: m[1] === '-', int: m[2] || '0', frac: m[3] || '' };
}

export function isDecimal(text) {
  return parseDecimal(text) !== null;
}

/**
 * "1234.5" -> "$1,234.50", "0.12345" -> "$0.12345": at least two fraction digits, every
 * significant digit kept (trailing zeros beyond two dropped).
 */
export function formatMoney(value, { empty = '—' } = {}) {
  const d = parseDecimal(value);
  if (!d) return value === null || value === undefined || value === '' ? empty : String(value);
  let frac = d.frac.replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  const isZero = /^0*$/.test(d.int) && /^0*$/.test(frac);
  const parts = moneyParts.formatToParts(BigInt(d.int));
  let out = '';
  let placed = false;
  for (const p of parts) {
    if (p.type === 'minusSign') continue;
    out += p.value;
    if (p.type === 'integer' && !placed) {
      // Several integer groups are separated by "group" parts; add the fraction after the last.
      const last = parts.filter((q) => q.type === 'integer').at(-1);
      if (p === last) {
        out += decimalSeparator + frac;
        placed = true;
      }
    }
  }
  return d.negative && !isZero ? `-${out}` : out;
}

/** Plain decimal string for an input field (as the server sent it, trimmed). */
export function decimalForInput(value) {
  return value === null || value === undefined ? '' : String(value);
}

/** A stored decimal for editing: "111.1100" → "111.11", "58.0000" → "58". */
export function plainDecimal(value) {
  const d = parseDecimal(value);
  if (!d) return value === null || value === undefined ? '' : String(value);
  const frac = d.frac.replace(/0+$/, '');
  return `${d.negative ? '-' : ''}${d.int}${frac ? `.${frac}` : ''}`;
}

/** Decimal places the server stores for every money amount. */
export const MONEY_SCALE = 4;

/**
 * The one rule for money typed anywhere in the UI: accepted only when unambiguous.
 * `.` is the decimal point; a comma is never guessed at (`12,34` → "use 12.34",
 * `1,234.50` → "use 1234.50"); at most MONEY_SCALE decimal places; an optional leading `$`.
 * Returns { value } (a decimal string, '' when empty) or { error } (a sentence to show).
 */
export function parseMoneyInput(text, { allowNegative = false } = {}) {
  let s = String(text ?? '').trim();
  if (s === '') return { value: '' };
  let negative = false;
  if (s.startsWith('-')) { negative = true; s = s.slice(1).trim(); }
  s = s.replace(/^\$\s*/, '');
  if (s.includes(',')) {
    const decimalComma = /^(\d+),(\d{1,2}|\d{4,})$/.exec(s);
    if (decimalComma) return { error: `“${text.trim()}” is ambiguous: use ${decimalComma[1]}.${decimalComma[2]} (a point for decimals)` };
    const grouped = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s);
    if (grouped && s.includes('.')) return { error: `Leave out the thousands separators: use ${s.replace(/,/g, '')}` };
    const european = /^(\d{1,3}(?:\.\d{3})+),(\d+)$/.exec(s);
    if (european) return { error: `Use a point for decimals and no thousands separators: use ${european[1].replace(/\./g, '')}.${european[2]}` };
    if (grouped) {
      const plain = s.replace(/,/g, '');
      return { error: `“${text.trim()}” is ambiguous: use ${plain} or ${s.replace(',', '.')}` };
    }
    return { error: 'Use digits with a point for decimals, e.g. 12.34' };
  }
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && !m[2])) return { error: 'Use digits with a point for decimals, e.g. 12.34' };
  const frac = m[2] || '';
  if (frac.length > MONEY_SCALE) return { error: `Use at most ${MONEY_SCALE} decimal places (prices are stored to 0.0001)` };
  if (negative && !allowNegative) return { error: 'Cannot be negative' };
  const int = (m[1] || '0').replace(/^0+(?=\d)/, '');
  const value = `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
  return { value };
}

/** Canonical and API names of money fields (diffs use snake_case, the API camelCase). */
const MONEY_NAMES = new Set(['cost', 'price', 'member_price', 'add_on_price', 'add_on_member_price',
  'memberPrice', 'addOnPrice', 'addOnMemberPrice', 'unit_cost', 'unitCost']);

export function isMoneyField(name) {
  return MONEY_NAMES.has(String(name)) || /(^|_)(cost|price)$/i.test(String(name));
}

const FIELD_LABELS = {
  code: 'Code', name: 'Name', description: 'Description', cost: 'Cost', price: 'Price',
  member_price: 'Member price', add_on_price: 'Add-on price', add_on_member_price: 'Add-on member price',
  active: 'Active', weight_kg: 'Weight (kg)', length_cm: 'Length (cm)', width_cm: 'Width (cm)',
  height_cm: 'Height (cm)', quantity: 'Quantity', categories: 'Categories', category_id: 'Category',
  unit_of_measure: 'Unit of measure', primary_vendor: 'Primary vendor', materials_included: 'Materials included',
  vendor_id: 'Vendor ID', vendor_name: 'Vendor', vendor_part: 'Vendor part', sku: 'SKU',
};

/** A field name for people: `add_on_price` / `addOnPrice` → "Add-on price". */
export function fieldLabel(name) {
  const key = String(name ?? '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return FIELD_LABELS[key] || humanize(key);
}

/** A field's value for people: money as currency, yes/no, vendors and lists in words. */
export function formatFieldValue(name, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (isMoneyField(name) && isDecimal(value)) return formatMoney(value);
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (Array.isArray(value)) {
    if (!value.length) return 'none';
    const ref = /categor/i.test(String(name));
    return value.map((v) => (v && typeof v === 'object' ? formatStructured(v) : ref ? `#${v}` : formatFieldValue(name, v))).join('; ');
  }
  if (typeof value === 'object') return formatStructured(value);
  return String(value);
}

function formatStructured(obj) {
  if ('vendor_name' in obj || 'vendorName' in obj) {
    const name = obj.vendor_name ?? obj.vendorName;
    const part = obj.vendor_part ?? obj.vendorPart;
    const id = obj.vendor_id ?? obj.vendorId;
    return [name || (id !== undefined && id !== null ? `Vendor #${id}` : 'Vendor'),
      part ? `part ${part}` : null,
      obj.cost !== undefined && obj.cost !== null ? `cost ${formatFieldValue('cost', obj.cost)}` : null]
      .filter(Boolean).join(' · ');
  }
  if ('kind' in obj && 'id' in obj) {
    const qty = obj.quantity !== undefined && obj.quantity !== null ? `${obj.quantity} × ` : '';
    return `${qty}${humanize(obj.kind).toLowerCase()} #${obj.id}`;
  }
  const parts = Object.entries(obj).filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${fieldLabel(k)}: ${formatFieldValue(k, v)}`);
  return parts.length ? parts.join(' · ') : '—';
}

const STATUS_TEXT = {
  400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  422: 'Unprocessable', 429: 'Too many requests', 500: 'Internal server error', 502: 'Bad gateway',
  503: 'Service unavailable', 504: 'Gateway timeout',
};
const LINE_MAX = 160;

function firstMessage(json) {
  if (!json || typeof json !== 'object') return null;
  const errors = json.errors;
  if (errors && typeof errors === 'object' && !Array.isArray(errors)) {
    const first = Object.values(errors).flat().find((m) => typeof m === 'string');
    if (first) return first;
  }
  if (Array.isArray(errors)) {
    const first = errors.find((e) => typeof e === 'string' || typeof e?.message === 'string');
    if (first) return typeof first === 'string' ? first : first.message;
  }
  for (const k of ['title', 'message', 'error_description', 'detail', 'error']) {
    if (typeof json[k] === 'string' && json[k].trim()) return json[k].trim();
    if (json[k] && typeof json[k] === 'object') {
      const inner = firstMessage(json[k]);
      if (inner) return inner;
    }
  }
  return null;
}

/**
 * An error message (often an upstream's raw answer) as one human line plus the raw detail:
 * `upstream error: server error HTTP 500: {"title":"Internal server error",…}` →
 * { line: "Upstream error: HTTP 500 — Internal server error", detail: the raw text }.
 */
export function summarizeError(raw) {
  const text = String(raw ?? '').trim();
  if (!text) return { line: '', detail: null };
  const brace = text.search(/[{[]/);
  let json = null;
  if (brace >= 0) {
    try { json = JSON.parse(text.slice(brace)); } catch { json = null; }
  }
  const head = (brace >= 0 ? text.slice(0, brace) : text).trim();
  const statusMatch = /\bHTTP (\d{3})\b/i.exec(head) || /\bstatus(?: code)?:? (\d{3})\b/i.exec(head);
  const status = statusMatch ? Number(statusMatch[1]) : (Number.isInteger(json?.status) ? json.status : null);
  if (status === null && json === null) {
    if (text.length <= LINE_MAX) return { line: text, detail: null };
    return { line: `${text.slice(0, LINE_MAX - 1).trimEnd()}…`, detail: text };
  }
  const source = head.split(':')[0].replace(/\s*(with\s+)?HTTP \d{3}.*$/i, '').trim();
  const prefix = source ? source.charAt(0).toUpperCase() + source.slice(1) : 'Error';
  const title = firstMessage(json);
  let line = `${prefix}: ${status !== null ? `HTTP ${status}` : ''}`;
  if (title) line += `${status !== null ? ' — ' : ''}${title}`;
  else if (status !== null && STATUS_TEXT[status]) line += ` ${STATUS_TEXT[status]}`;
  if (line.length > LINE_MAX) line = `${line.slice(0, LINE_MAX - 1).trimEnd()}…`;
  return { line, detail: text };
}

export function formatInt(n) {
  if (n === null || n === undefined || n === '') return '—';
  return intFormat.format(n);
}

export function formatPercent(n) {
  if (n === null || n === undefined) return '—';
  return `${Math.max(0, Math.min(100, Math.round(n)))} %`;
}

export function formatDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTime.format(d);
}

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00` : iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateOnly.format(d);
}

/** "3 minutes ago" / "in 2 hours". */
export function formatRelative(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return relative.format(s, 'second');
  if (abs < 2700) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 64800) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

/** "1 h 02 min", "4 min 05 s", "12 s", "0.4 s". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 10) return `${Math.max(0, Math.round(seconds * 10) / 10)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

export function durationBetween(startIso, endIso) {
  if (!startIso) return null;
  const start = new Date(startIso).getTime();
  const end = endIso ? new Date(endIso).getTime() : Date.now();
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  return Math.max(0, (end - start) / 1000);
}

/** "RemoteOnly" / "remote_only" / "REMOTE_ONLY" -> "Remote only". */
export function humanizeAny(value) {
  if (value === null || value === undefined) return '—';
  return humanize(String(value).replace(/([a-z0-9])([A-Z])/g, '$1_$2'));
}

/** ENUM_VALUE -> "Enum value". */
export function humanize(value) {
  if (value === null || value === undefined) return '—';
  const s = String(value).replace(/_/g, ' ').toLowerCase().replace(/\b(csv|eta|id|sku)\b/g, (w) => w.toUpperCase());
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A JSON value for display in a diff cell. */
export function formatJsonValue(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}
