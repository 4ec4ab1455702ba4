// Saving a local edit of an item (name, money fields, active), shared by the list and the page.

import { gql } from './api.js';
import { parseMoneyInput } from './format.js';

export const MONEY_FIELDS = [
  ['cost', 'Cost'], ['price', 'Price'], ['memberPrice', 'Member price'], ['addOnPrice', 'Add-on price'],
];

/**
 * Compares a draft (strings as typed) with the item and returns { input, errors }:
 * only changed fields go into `input`; money is validated and sent as decimal strings.
 */
export function buildItemInput(item, draft) {
  const input = {};
  const errors = {};
  if ('name' in draft) {
    const name = draft.name.trim();
    if (!name) errors.name = 'Name cannot be empty';
    else if (name !== item.name) input.name = name;
  }
  if ('description' in draft && (draft.description || '') !== (item.description || '')) {
    input.description = draft.description;
  }
  for (const [key, label] of MONEY_FIELDS) {
    if (!(key in draft)) continue;
    const { value, error } = parseMoneyInput(draft[key]);
    if (error) { errors[key] = error; continue; }
    if (value === '') {
      if (item[key] !== null && item[key] !== undefined) errors[key] = `${label} cannot be cleared here`;
      continue;
    }
    if (!sameDecimal(value, item[key])) input[key] = value;
  }
  if ('active' in draft && draft.active !== item.active) input.active = draft.active;
  return { input, errors };
}

function sameDecimal(a, b) {
  if (b === null || b === undefined) return false;
  const norm = (s) => {
    let [i, f = ''] = String(s).split('.');
    i = i.replace(/^(-?)0+(?=\d)/, '$1');
    f = f.replace(/0+$/, '');
    return `${i}.${f}`;
  };
  return norm(a) === norm(b);
}

export const ITEM_FIELDS = 'id code name kind description cost price memberPrice addOnPrice active deletedAt updatedAt localModifiedAt';

export async function saveItem(id, input, selection = ITEM_FIELDS) {
  const data = await gql(`mutation($id: ID!, $input: ItemInput!) { updateItem(id: $id, input: $input) { ${selection} } }`, { id, input });
  return data.updateItem;
}
