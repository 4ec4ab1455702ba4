// The screens: where each lives, who sees it in the navigation, and the module that draws it.
// Screens load on first visit (dynamic import), so signing in fetches only the shell and the
// dashboard. To add a screen, add one entry here: a new file under screens/ and nothing else.

import { canEdit, isAdmin } from './session.js';

/**
 * `section`: first path segment ('' for the dashboard). `list` / `detail`: loaders resolving
 * to the component for `#/section` and `#/section/:id` (a detail gets `id`, a list `route`).
 * `nav`: label in the main navigation, `show(caps, user)`: whether this user gets the entry.
 */
export const ROUTES = [
  { section: '', nav: 'Dashboard', show: () => true, list: () => import('./screens/dashboard.js').then((m) => m.Dashboard) },
  {
    section: 'review', nav: 'Review', show: (caps) => caps.query('reviewQueue') || caps.query('conflicts'),
    list: () => import('./screens/review.js').then((m) => m.ReviewQueue),
  },
  {
    section: 'runs', nav: 'Runs', show: (caps) => caps.query('syncRuns'),
    list: () => import('./screens/runs.js').then((m) => m.Runs),
    detail: () => import('./screens/run.js').then((m) => m.RunPage),
  },
  {
    section: 'conflicts', nav: 'Conflicts', show: (caps) => caps.query('conflicts'),
    list: () => import('./screens/conflicts.js').then((m) => m.Conflicts),
    detail: () => import('./screens/conflict.js').then((m) => m.ConflictPage),
  },
  {
    section: 'items', nav: 'Items', show: (caps) => caps.query('items'),
    list: () => import('./screens/items.js').then((m) => m.Items),
    detail: () => import('./screens/item.js').then((m) => m.ItemPage),
  },
  {
    section: 'import', nav: 'CSV import', show: (caps, user) => caps.mutation('uploadCsv') && canEdit(user),
    list: () => import('./screens/csv-import.js').then((m) => m.CsvImport),
  },
  {
    section: 'connections', nav: 'Connections', show: (caps) => caps.query('connections'),
    list: () => import('./screens/connections.js').then((m) => m.Connections),
    detail: () => import('./screens/connection.js').then((m) => m.ConnectionPage),
  },
  {
    section: 'recoveries', nav: 'Recoveries', show: (caps) => caps.query('amazonRecoveries'),
    list: () => import('./screens/recoveries.js').then((m) => m.Recoveries),
  },
  {
    section: 'users', nav: 'Users', show: (caps, user) => isAdmin(user) && caps.query('users'),
    list: () => import('./screens/users.js').then((m) => m.Users),
  },
  {
    section: 'alerts', nav: 'Alerts', show: (caps, user) => isAdmin(user) && caps.query('alertTargets'),
    list: () => import('./screens/alerts.js').then((m) => m.Alerts),
  },
];

export const NOT_FOUND = () => import('./screens/not-found.js').then((m) => m.NotFound);

/** The loader for a route and the props its component takes. */
export function screenFor(route) {
  const [section = '', id] = route.parts;
  const entry = ROUTES.find((r) => r.section === section);
  if (!entry) return { key: 'not-found', load: NOT_FOUND, props: {} };
  if (id !== undefined) {
    if (!entry.detail) return { key: 'not-found', load: NOT_FOUND, props: {} };
    return { key: route.path, load: entry.detail, props: { id } };
  }
  return { key: `/${section}`, load: entry.list, props: { route } };
}
