// What every screen may need: the signed-in user and the server's capabilities.

import { createContext, useContext } from './lib.js';
import { canEdit, isAdmin } from './session.js';

export const AppContext = createContext(null);

/** { user, caps, canEdit, isAdmin } */
export function useApp() {
  const ctx = useContext(AppContext);
  return { ...ctx, canEdit: canEdit(ctx.user), isAdmin: isAdmin(ctx.user) };
}
