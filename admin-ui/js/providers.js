// What each upstream system needs: non-secret config fields and write-only credentials.
// Mirrors the server's checks (src/connectors/settings.rs) so mistakes show before saving;
// `entities`: the synced entity types (src/connectors/*/mod.rs ENTITIES), for the sync policy.

export const PROVIDERS = {
  SERVICETITAN: {
    label: 'ServiceTitan',
    entities: ['materials', 'equipment', 'services'],
    config: [{ key: 'tenant', label: 'Tenant ID', required: true, numeric: true, hint: 'The numeric tenant id of your ServiceTitan account' }],
    secrets: [
      { key: 'clientId', label: 'Client ID', required: true },
      { key: 'clientSecret', label: 'Client secret', required: true, password: true },
      { key: 'appKey', label: 'App key', required: true, password: true },
    ],
  },
  JOBBER: {
    label: 'Jobber',
    entities: ['products', 'services'],
    config: [],
    secrets: [
      { key: 'clientId', label: 'Client ID', required: true },
      { key: 'clientSecret', label: 'Client secret', required: true, password: true },
    ],
    oauth: 'jobber',
  },
  FULFIL: {
    label: 'Fulfil',
    entities: ['products'],
    config: [{ key: 'merchant', label: 'Merchant', required: true, hint: 'The subdomain of your Fulfil instance (merchant.fulfil.io)' }],
    secrets: [{ key: 'apiKey', label: 'API key', required: true, password: true }],
  },
  SHIPHERO: {
    label: 'ShipHero',
    entities: ['products'],
    config: [],
    secrets: [
      { key: 'username', label: 'Username', required: true },
      { key: 'password', label: 'Password', required: true, password: true },
    ],
  },
  AMAZON: {
    label: 'Amazon Seller Central',
    entities: ['inventory'],
    config: [
      { key: 'marketplaceId', label: 'Marketplace ID', required: true, hint: 'e.g. ATVPDKIKX0DER for amazon.com' },
      { key: 'region', label: 'Region', required: true, options: [['na', 'North America (na)'], ['eu', 'Europe (eu)'], ['fe', 'Far East (fe)']] },
    ],
    secrets: [
      { key: 'clientId', label: 'LWA client ID', required: true },
      { key: 'clientSecret', label: 'LWA client secret', required: true, password: true },
      { key: 'refreshToken', label: 'Refresh token', required: false, password: true, hint: 'Leave empty and use “Connect to Amazon Seller Central” after saving' },
    ],
    oauth: 'amazon',
  },
};

export function providerLabel(value) {
  return PROVIDERS[String(value).toUpperCase()]?.label || String(value);
}


export const DIRECTIONS = [['both', 'Two-way (pull and push)'], ['pull', 'Pull only (upstream → here)'], ['push', 'Push only (here → upstream)']];

export function timeZones() {
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { zones = []; }
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}
