// Which screens exist for this user on this server (the navigation half of routes.js).

import { ROUTES } from './routes.js';

export function navItems(caps, user) {
  return ROUTES.filter((r) => r.nav && r.show(caps, user)).map((r) => ({ path: `/${r.section}`, label: r.nav }));
}
