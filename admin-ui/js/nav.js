// Which screens exist for this user on this server.

import { canEdit, isAdmin } from './session.js';

export function navItems(caps, user) {
  return [
    { path: '/', label: 'Dashboard', show: true },
    { path: '/runs', label: 'Runs', show: caps.query('syncRuns') },
    { path: '/conflicts', label: 'Conflicts', show: caps.query('conflicts') },
    { path: '/items', label: 'Items', show: caps.query('items') },
    { path: '/import', label: 'CSV import', show: caps.mutation('uploadCsv') && canEdit(user) },
    { path: '/connections', label: 'Connections', show: caps.query('connections') },
    { path: '/recoveries', label: 'Recoveries', show: caps.query('amazonRecoveries') },
    { path: '/users', label: 'Users', show: isAdmin(user) && caps.query('users') },
  ].filter((i) => i.show);
}
